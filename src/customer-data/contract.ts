// A postpaid contract's details (BI_ODS, SAP business partner): holder, phone and e-mail by contract account.
import { z } from 'zod';
import { keyNumber, optionalText, phoneOnFile, sapPadded } from '../adapters/mssql/source-values.js';
import { sourceRead } from '../adapters/mssql/source-query.js';

// SAP keeps contract accounts as 12 digits and partners as 10, zero-padded: the account is padded before the lookup
// and both come back without the zeros, the form the rest of the API uses.
const CONTRACT_ACCOUNT_DIGITS = 12;

/**
 * One row per contract account. An address can hold several phones (ADR2) and e-mails (ADR6): the smallest of each
 * is served, so the answer is one row and the same on every call.
 */
export const contractDetails = sourceRead({
  name: 'contract-details',
  source: 'bi_ods',
  input: z.object({ account: sapPadded(CONTRACT_ACCOUNT_DIGITS) }),
  tsql:
    'SELECT f.[VKONT], f.[GPART], b.[NAME_FIRST], b.[NAME_LAST],' +
    ' (SELECT MIN(a2.[TELNR_CALL]) FROM [ADR2] AS a2 WHERE a2.[ADDRNUMBER] = b.[ADDRCOMM]) AS [TELNR_CALL],' +
    ' (SELECT MIN(a6.[SMTP_ADDR]) FROM [ADR6] AS a6 WHERE a6.[ADDRNUMBER] = b.[ADDRCOMM]) AS [SMTP_ADDR]' +
    ' FROM [FKKVKP] AS f INNER JOIN [BUT000] AS b ON b.[PARTNER] = f.[GPART] WHERE f.[VKONT] = @account',
  twin:
    'SELECT f."VKONT", f."GPART", b."NAME_FIRST", b."NAME_LAST",' +
    ' (SELECT MIN(a2."TELNR_CALL") FROM bi_ods."ADR2" AS a2 WHERE a2."ADDRNUMBER" = b."ADDRCOMM") AS "TELNR_CALL",' +
    ' (SELECT MIN(a6."SMTP_ADDR") FROM bi_ods."ADR6" AS a6 WHERE a6."ADDRNUMBER" = b."ADDRCOMM") AS "SMTP_ADDR"' +
    ' FROM bi_ods."FKKVKP" AS f INNER JOIN bi_ods."BUT000" AS b ON b."PARTNER" = f."GPART" WHERE f."VKONT" = @account',
  map: z
    .object({
      VKONT: keyNumber,
      GPART: keyNumber,
      NAME_FIRST: optionalText,
      NAME_LAST: optionalText,
      TELNR_CALL: phoneOnFile,
      SMTP_ADDR: optionalText,
    })
    .transform((row) => ({
      contractAccount: row.VKONT,
      partner: row.GPART,
      firstName: row.NAME_FIRST,
      lastName: row.NAME_LAST,
      phone: row.TELNR_CALL,
      email: row.SMTP_ADDR,
    })),
});

export type ContractDetails = z.output<typeof contractDetails.map>;
