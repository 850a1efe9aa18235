// Woyofal purchases of a prepaid meter (SIC HEXING_SENELECBILL_ALHDL2): the latest, a period, monthly totals.
import { z } from 'zod';
import { fcfa, isoInstant, kwh, optionalText, rate, text, whole } from '../adapters/mssql/source-values.js';
import { sourceRead, tsqlColumns, twinColumns } from '../adapters/mssql/source-query.js';
import { instant, periodInOrder, rowLimit, utilityNumber, year } from './query-params.js';

const BANDS = [1, 2, 3] as const;

const COLUMNS = [
  'NUMERO_COMMANDE', 'NUMERO_COMPTEUR', 'POLICE', 'NOM_AGENCE_ENCAISSEMENT', 'TARIF_USAGE', 'DATE_TRANSACTION',
  'MONTANT_HT', 'MONTANT_TVA', 'MONTANT_TCO', 'MONTANT_TTC', 'MONTANT_RECU', 'ENERGIE_VENDUE', 'DETTES', 'SOLDE_DETTE',
  'NOM_OPERATEUR', 'TOKEN', 'ARRONDI', ...BANDS.flatMap((band) => [`ENERGIE${band}`, `PRIX${band}`, `MONTANT${band}`]),
];

const bandFields = Object.fromEntries(
  BANDS.flatMap((band) => [
    [`ENERGIE${band}`, kwh.nullable()],
    [`PRIX${band}`, rate.nullable()],
    [`MONTANT${band}`, fcfa.nullable()],
  ]),
) as Record<`${'ENERGIE' | 'PRIX' | 'MONTANT'}${1 | 2 | 3}`, z.ZodType<number | null, unknown>>;

/** The STS codes of a sale: 20 digits each, however the column separates them (three per sale since October 2024). */
export function stsTokens(value: string | null): string[] {
  if (value === null) return [];
  const digits = value.replace(/\D/g, '');
  if (digits.length > 0 && digits.length % 20 === 0) return digits.match(/\d{20}/g) ?? [];
  return value.trim() === '' ? [] : [value.trim()];
}

const purchase = z
  .object({
    NUMERO_COMMANDE: text,
    NUMERO_COMPTEUR: text,
    POLICE: text,
    NOM_AGENCE_ENCAISSEMENT: optionalText,
    TARIF_USAGE: optionalText,
    DATE_TRANSACTION: isoInstant,
    MONTANT_HT: fcfa.nullable(),
    MONTANT_TVA: fcfa.nullable(),
    MONTANT_TCO: fcfa.nullable(),
    MONTANT_TTC: fcfa,
    MONTANT_RECU: fcfa.nullable(),
    ENERGIE_VENDUE: kwh.nullable(),
    DETTES: fcfa.nullable(),
    SOLDE_DETTE: fcfa.nullable(),
    NOM_OPERATEUR: optionalText,
    TOKEN: optionalText,
    ARRONDI: fcfa.nullable(),
    ...bandFields,
  })
  .transform((row) => ({
    orderNumber: row.NUMERO_COMMANDE,
    meterNumber: row.NUMERO_COMPTEUR,
    police: row.POLICE,
    purchasedAt: row.DATE_TRANSACTION,
    agency: row.NOM_AGENCE_ENCAISSEMENT,
    tariff: row.TARIF_USAGE,
    operator: row.NOM_OPERATEUR,
    // MONTANT_RECU is empty on some sales: the customer then paid the TTC.
    amountPaidFcfa: row.MONTANT_RECU ?? row.MONTANT_TTC,
    amountHtFcfa: row.MONTANT_HT,
    vatFcfa: row.MONTANT_TVA,
    tcoFcfa: row.MONTANT_TCO,
    amountTtcFcfa: row.MONTANT_TTC,
    roundingFcfa: row.ARRONDI,
    energyKwh: row.ENERGIE_VENDUE,
    debtRecoveredFcfa: row.DETTES,
    debtRemainingFcfa: row.SOLDE_DETTE,
    tokens: stsTokens(row.TOKEN),
    bands: BANDS.map((band) => ({
      band,
      energyKwh: row[`ENERGIE${band}`],
      unitPriceFcfa: row[`PRIX${band}`],
      amountFcfa: row[`MONTANT${band}`],
    })).filter((b) => b.energyKwh !== null || b.unitPriceFcfa !== null || b.amountFcfa !== null),
  }));

export type Purchase = z.output<typeof purchase>;

// A meter's sales are matched on its number and its POC (police number), as DOMAIN.md says of the table.
const OF_METER_TSQL = '[NUMERO_COMPTEUR] = @meter AND [POLICE] = @police';
const OF_METER_TWIN = '"NUMERO_COMPTEUR" = @meter AND "POLICE" = @police';
const NEWEST_TSQL = 'ORDER BY [DATE_TRANSACTION] DESC, [NUMERO_COMMANDE] DESC';
const NEWEST_TWIN = 'ORDER BY "DATE_TRANSACTION" DESC, "NUMERO_COMMANDE" DESC';

export const latestPurchases = sourceRead({
  name: 'latest-purchases',
  source: 'sic',
  input: z.object({ meter: utilityNumber, police: utilityNumber, limit: rowLimit }),
  tsql: `SELECT TOP (@limit) ${tsqlColumns(COLUMNS)} FROM [HEXING_SENELECBILL_ALHDL2] WHERE ${OF_METER_TSQL} ${NEWEST_TSQL}`,
  twin: `SELECT ${twinColumns(COLUMNS)} FROM sic."HEXING_SENELECBILL_ALHDL2" WHERE ${OF_METER_TWIN} ${NEWEST_TWIN} LIMIT @limit`,
  map: purchase,
});

export const purchasesInPeriod = sourceRead({
  name: 'purchases-in-period',
  source: 'sic',
  input: z
    .object({ meter: utilityNumber, police: utilityNumber, from: instant, to: instant, limit: rowLimit })
    .refine(periodInOrder, { message: 'from must come before to', path: ['from'] }),
  tsql:
    `SELECT TOP (@limit) ${tsqlColumns(COLUMNS)} FROM [HEXING_SENELECBILL_ALHDL2] WHERE ${OF_METER_TSQL}` +
    ` AND [DATE_TRANSACTION] >= @from AND [DATE_TRANSACTION] < @to ${NEWEST_TSQL}`,
  twin:
    `SELECT ${twinColumns(COLUMNS)} FROM sic."HEXING_SENELECBILL_ALHDL2" WHERE ${OF_METER_TWIN}` +
    ` AND "DATE_TRANSACTION" >= @from AND "DATE_TRANSACTION" < @to ${NEWEST_TWIN} LIMIT @limit`,
  map: purchase,
});

export const monthlyPurchases = sourceRead({
  name: 'monthly-purchases',
  source: 'sic',
  input: z.object({ meter: utilityNumber, police: utilityNumber, year }),
  // COALESCE: a sale without MONTANT_RECU counts its TTC, as one sale does.
  tsql:
    'SELECT MONTH([DATE_TRANSACTION]) AS [month], COUNT(*) AS [purchases],' +
    ' SUM(COALESCE([MONTANT_RECU], [MONTANT_TTC])) AS [amount], SUM([ENERGIE_VENDUE]) AS [energy]' +
    ` FROM [HEXING_SENELECBILL_ALHDL2] WHERE ${OF_METER_TSQL}` +
    ' AND [DATE_TRANSACTION] >= DATEFROMPARTS(@year, 1, 1) AND [DATE_TRANSACTION] < DATEFROMPARTS(@year + 1, 1, 1)' +
    ' GROUP BY MONTH([DATE_TRANSACTION]) ORDER BY [month]',
  // Months are cut in UTC, which is Dakar time (the source's datetimes hold local time).
  twin:
    `SELECT EXTRACT(MONTH FROM "DATE_TRANSACTION" AT TIME ZONE 'UTC') AS month, COUNT(*) AS purchases,` +
    ' SUM(COALESCE("MONTANT_RECU", "MONTANT_TTC")) AS amount, SUM("ENERGIE_VENDUE") AS energy' +
    ` FROM sic."HEXING_SENELECBILL_ALHDL2" WHERE ${OF_METER_TWIN}` +
    ` AND "DATE_TRANSACTION" >= make_timestamptz(@year, 1, 1, 0, 0, 0, 'UTC')` +
    ` AND "DATE_TRANSACTION" < make_timestamptz(@year + 1, 1, 1, 0, 0, 0, 'UTC')` +
    ` GROUP BY EXTRACT(MONTH FROM "DATE_TRANSACTION" AT TIME ZONE 'UTC') ORDER BY month`,
  map: z
    .object({ month: whole, purchases: whole, amount: fcfa, energy: kwh.nullable() })
    .transform((row) => ({ month: row.month, purchases: row.purchases, amountPaidFcfa: row.amount, energyKwh: row.energy ?? 0 })),
});
