// Postpaid bills of a contract account (HISTH2MC Historique): the latest, a period, monthly totals.
import { z } from 'zod';
import { fcfa, isoInstant, keyNumber, kwh, optionalText, rate, text, whole } from '../adapters/mssql/source-values.js';
import { sourceRead, tsqlColumns, twinColumns } from '../adapters/mssql/source-query.js';
import { instant, periodInOrder, rowLimit, utilityNumber, year } from './query-params.js';

const COLUMNS = [
  'IDHistorique', 'numFact', 'numCC', 'numPartenaire', 'DATFACT', 'DATEECH', 'moisFacturation', 'anneeFacturation',
  'BT_CONSOM1', 'BT_CONSOM2', 'BT_CONSOM3', 'BT_CONSTOT', 'BT_MONT_HT', 'BT_MONT_TTC', 'BT_MONT_TCO', 'BT_TOTALFACTUR',
  'MONT_TVA', 'MONT_TTC', 'MONT_TCO', 'TOTALFACT', 'NBJRS_', 'NOCPTEUR', 'NOMPRES', 'ADD_LIV', 'TARIF', 'PMAX', 'TYPEFACT',
  'AGENCE', 'typeClientele',
];

const bill = z
  .object({
    IDHistorique: keyNumber,
    numFact: text,
    numCC: keyNumber,
    numPartenaire: keyNumber.nullable(),
    DATFACT: isoInstant,
    DATEECH: isoInstant.nullable(),
    moisFacturation: whole,
    anneeFacturation: whole,
    BT_CONSOM1: kwh.nullable(),
    BT_CONSOM2: kwh.nullable(),
    BT_CONSOM3: kwh.nullable(),
    BT_CONSTOT: kwh.nullable(),
    BT_MONT_HT: fcfa.nullable(),
    BT_MONT_TTC: fcfa.nullable(),
    BT_MONT_TCO: fcfa.nullable(),
    BT_TOTALFACTUR: fcfa.nullable(),
    MONT_TVA: fcfa.nullable(),
    MONT_TTC: fcfa.nullable(),
    MONT_TCO: fcfa.nullable(),
    TOTALFACT: fcfa,
    NBJRS_: whole.nullable(),
    NOCPTEUR: optionalText,
    NOMPRES: optionalText,
    ADD_LIV: optionalText,
    TARIF: optionalText,
    PMAX: rate.nullable(),
    TYPEFACT: optionalText,
    AGENCE: optionalText,
    typeClientele: optionalText,
  })
  .transform((row) => ({
    id: row.IDHistorique,
    billNumber: row.numFact,
    contractAccount: row.numCC,
    partner: row.numPartenaire,
    issuedAt: row.DATFACT,
    dueAt: row.DATEECH,
    billingMonth: row.moisFacturation,
    billingYear: row.anneeFacturation,
    daysBilled: row.NBJRS_,
    meterNumber: row.NOCPTEUR,
    name: row.NOMPRES,
    address: row.ADD_LIV,
    tariff: row.TARIF,
    billType: row.TYPEFACT,
    agency: row.AGENCE,
    customerType: row.typeClientele,
    // DOMAIN.md names PMAX without its unit: served as the bill prints it.
    maxPower: row.PMAX,
    consumptionKwh: { band1: row.BT_CONSOM1, band2: row.BT_CONSOM2, band3: row.BT_CONSOM3, total: row.BT_CONSTOT },
    lowVoltage: { amountHtFcfa: row.BT_MONT_HT, amountTtcFcfa: row.BT_MONT_TTC, tcoFcfa: row.BT_MONT_TCO, totalFcfa: row.BT_TOTALFACTUR },
    vatFcfa: row.MONT_TVA,
    amountTtcFcfa: row.MONT_TTC,
    tcoFcfa: row.MONT_TCO,
    totalFcfa: row.TOTALFACT,
  }));

export type Bill = z.output<typeof bill>;

const NEWEST_TSQL = 'ORDER BY [DATFACT] DESC, [IDHistorique] DESC';
const NEWEST_TWIN = 'ORDER BY "DATFACT" DESC, "IDHistorique" DESC';

export const latestBills = sourceRead({
  name: 'latest-bills',
  source: 'histh2mc',
  input: z.object({ account: utilityNumber, limit: rowLimit }),
  tsql: `SELECT TOP (@limit) ${tsqlColumns(COLUMNS)} FROM [Historique] WHERE [numCC] = @account ${NEWEST_TSQL}`,
  twin: `SELECT ${twinColumns(COLUMNS)} FROM histh2mc."Historique" WHERE "numCC" = @account ${NEWEST_TWIN} LIMIT @limit`,
  map: bill,
});

export const billsInPeriod = sourceRead({
  name: 'bills-in-period',
  source: 'histh2mc',
  input: z
    .object({ account: utilityNumber, from: instant, to: instant, limit: rowLimit })
    .refine(periodInOrder, { message: 'from must come before to', path: ['from'] }),
  tsql:
    `SELECT TOP (@limit) ${tsqlColumns(COLUMNS)} FROM [Historique] WHERE [numCC] = @account` +
    ` AND [DATFACT] >= @from AND [DATFACT] < @to ${NEWEST_TSQL}`,
  twin:
    `SELECT ${twinColumns(COLUMNS)} FROM histh2mc."Historique" WHERE "numCC" = @account` +
    ` AND "DATFACT" >= @from AND "DATFACT" < @to ${NEWEST_TWIN} LIMIT @limit`,
  map: bill,
});

// A bill belongs to the month it bills (moisFacturation), not the day it was printed.
export const monthlyBills = sourceRead({
  name: 'monthly-bills',
  source: 'histh2mc',
  input: z.object({ account: utilityNumber, year }),
  tsql:
    'SELECT [moisFacturation] AS [month], COUNT(*) AS [bills], SUM([TOTALFACT]) AS [amount], SUM([BT_CONSTOT]) AS [energy]' +
    ' FROM [Historique] WHERE [numCC] = @account AND [anneeFacturation] = @year GROUP BY [moisFacturation] ORDER BY [month]',
  twin:
    'SELECT "moisFacturation" AS month, COUNT(*) AS bills, SUM("TOTALFACT") AS amount, SUM("BT_CONSTOT") AS energy' +
    ' FROM histh2mc."Historique" WHERE "numCC" = @account AND "anneeFacturation" = @year GROUP BY "moisFacturation" ORDER BY month',
  map: z
    .object({ month: whole, bills: whole, amount: fcfa, energy: kwh.nullable() })
    .transform((row) => ({ month: row.month, bills: row.bills, totalFcfa: row.amount, energyKwh: row.energy ?? 0 })),
});
