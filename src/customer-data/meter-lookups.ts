// The customer a meter belongs to (SIC): a prepaid meter by its number, a postpaid account by its contract account.
import { z } from 'zod';
import { keyNumber, optionalText, phoneOnFile, text } from '../adapters/mssql/source-values.js';
import { sourceRead } from '../adapters/mssql/source-query.js';
import { utilityNumber } from './query-params.js';

export const prepaidCustomer = sourceRead({
  name: 'prepaid-customer',
  source: 'sic',
  input: z.object({ meter: utilityNumber }),
  tsql:
    'SELECT [N° COMPTEUR], [POC], [tel], [N° CLIENT], [ADRESSE], [usage], [CLIENT], [agence]' +
    ' FROM [HEXING_INFOS_ADMINISTRATIVES_NEW] WHERE [N° COMPTEUR] = @meter',
  twin:
    'SELECT "N° COMPTEUR", "POC", "tel", "N° CLIENT", "ADRESSE", "usage", "CLIENT", "agence"' +
    ' FROM sic."HEXING_INFOS_ADMINISTRATIVES_NEW" WHERE "N° COMPTEUR" = @meter',
  map: z
    .object({
      'N° COMPTEUR': text,
      POC: text,
      tel: phoneOnFile,
      'N° CLIENT': optionalText,
      ADRESSE: optionalText,
      usage: optionalText,
      CLIENT: optionalText,
      agence: optionalText,
    })
    .transform((row) => ({
      meterNumber: row['N° COMPTEUR'],
      police: row.POC,
      phone: row.tel,
      customerNumber: row['N° CLIENT'],
      name: row.CLIENT,
      address: row.ADRESSE,
      usage: row.usage,
      agency: row.agence,
    })),
});

export type PrepaidCustomer = z.output<typeof prepaidCustomer.map>;

export const postpaidAccount = sourceRead({
  name: 'postpaid-account',
  source: 'sic',
  input: z.object({ account: utilityNumber }),
  tsql:
    'SELECT [COMPTE CONTRAT], [N PARTENAIRE], [TELEPHONE], [ADRESSE], [TARIF], [CLIENT], [AGENCE]' +
    ' FROM [compteurs_postpaid] WHERE [COMPTE CONTRAT] = @account',
  twin:
    'SELECT "COMPTE CONTRAT", "N PARTENAIRE", "TELEPHONE", "ADRESSE", "TARIF", "CLIENT", "AGENCE"' +
    ' FROM sic."compteurs_postpaid" WHERE "COMPTE CONTRAT" = @account',
  map: z
    .object({
      'COMPTE CONTRAT': keyNumber,
      'N PARTENAIRE': keyNumber.nullable(),
      TELEPHONE: phoneOnFile,
      ADRESSE: optionalText,
      TARIF: optionalText,
      CLIENT: optionalText,
      AGENCE: optionalText,
    })
    .transform((row) => ({
      contractAccount: row['COMPTE CONTRAT'],
      partner: row['N PARTENAIRE'],
      phone: row.TELEPHONE,
      name: row.CLIENT,
      address: row.ADRESSE,
      tariff: row.TARIF,
      agency: row.AGENCE,
    })),
});

export type PostpaidAccount = z.output<typeof postpaidAccount.map>;
