// Messages of the meter-data actor (a linked meter's purchases, bills and contract, DOMAIN.md rule 5) and their HTTP shapes.
import { z } from 'zod';
import type { Caller } from './caller.js';
import { staleFields } from './customer-data-messages.js';
import type { Reply } from './reply.js';

/** Rows a list answers when the query names no `limit`, and the most it may name. */
export const PURCHASES_DEFAULT_LIMIT = 10;
export const BILLS_DEFAULT_LIMIT = 6;
export const LIST_MAX_LIMIT = 100;
/** The years monthly totals may be asked for. */
export const FIRST_YEAR = 2000;
export const LAST_YEAR = 2100;
/** The earliest year a period may start in. */
export const FIRST_PERIOD_YEAR = 1900;

// A date (midnight UTC: the sources hold Dakar time, which is UTC) or a date and time with its zone; nothing else, so
// a client never gets a period it did not mean from a lenient parser.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function instantField(description: string) {
  return z
    .string()
    .max(40)
    .transform((value, ctx) => {
      const date = ISO_DATE.test(value) ? new Date(`${value}T00:00:00Z`) : ISO_DATE_TIME.test(value) ? new Date(value) : undefined;
      // Date normalises 2026-02-30 to March: such a day is refused rather than moved.
      const sameDay = date !== undefined && !Number.isNaN(date.getTime()) && (!ISO_DATE.test(value) || date.toISOString().startsWith(value));
      if (!sameDay) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date (2026-01-31) or date and time with its zone (2026-01-31T08:00:00Z)' });
        return z.NEVER;
      }
      // Inside what every source's datetime type holds (SQL Server's datetime starts in 1753; PostgreSQL has no year 0).
      const year = date.getUTCFullYear();
      if (year < FIRST_PERIOD_YEAR || year > LAST_YEAR) {
        ctx.addIssue({ code: 'custom', message: `must fall in the years ${FIRST_PERIOD_YEAR} to ${LAST_YEAR}` });
        return z.NEVER;
      }
      return date;
    })
    .meta({ example: '2026-01-01', description });
}

/** A whole number in a query string, digits only (no sign, no exponent, no blanks), within its bounds. */
function wholeField(min: number, max: number, description: string, example: string) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`)
    .meta({ example, description });
}

function listQuery(defaultLimit: number, what: string) {
  return z
    .object({
      from: instantField(`Start of the period, inclusive (ISO 8601; a bare date is midnight UTC, which is Dakar time). Give both from and to, or neither for the latest ${what}.`).optional(),
      to: instantField('End of the period, exclusive (ISO 8601), after from.').optional(),
      limit: wholeField(1, LIST_MAX_LIMIT, `How many ${what} at most, newest first: 1 to ${LIST_MAX_LIMIT}. @defaultValue ${defaultLimit}`, String(defaultLimit)).optional(),
    })
    .superRefine((q, ctx) => {
      if (q.from !== undefined && q.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'is required when from is given' });
      if (q.to !== undefined && q.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'is required when to is given' });
      if (q.from !== undefined && q.to !== undefined && q.from.getTime() >= q.to.getTime()) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must come before to' });
    });
}

export const purchasesQuery = listQuery(PURCHASES_DEFAULT_LIMIT, 'purchases');
export const billsQuery = listQuery(BILLS_DEFAULT_LIMIT, 'bills');
export const monthlyQuery = z.object({
  year: wholeField(FIRST_YEAR, LAST_YEAR, `The calendar year (UTC, which is Dakar time), ${FIRST_YEAR} to ${LAST_YEAR}. @defaultValue the current year`, '2026').optional(),
});

export type ListQuery = z.output<typeof purchasesQuery>;
export type MonthlyQuery = z.output<typeof monthlyQuery>;

// ---------------------------------------------------------------------------------------------------------------
// Answers. Amounts are whole FCFA (the franc has no subunit), energy kWh with its decimals, instants ISO 8601 UTC.

const fcfa = (description: string) => z.number().int().meta({ description: `${description}, in FCFA.` });
const kwh = (description: string) => z.number().meta({ description: `${description}, in kWh.` });
const instant = (description: string) => z.string().meta({ description: `${description} (ISO 8601, UTC).` });


export const purchaseSchema = z.object({
  orderNumber: z.string().meta({ description: 'The sale (NUMERO_COMMANDE).' }),
  meterNumber: z.string(),
  police: z.string().meta({ description: 'The POC the sale was made under.' }),
  purchasedAt: instant('When the sale was made'),
  agency: z.string().nullable().meta({ description: 'Where it was paid.' }),
  tariff: z.string().nullable(),
  operator: z.string().nullable(),
  amountPaidFcfa: fcfa('What the customer paid (MONTANT_RECU, else the amount with taxes)'),
  amountHtFcfa: fcfa('Amount before taxes').nullable(),
  vatFcfa: fcfa('VAT').nullable(),
  tcoFcfa: fcfa('Municipal tax (TCO)').nullable(),
  amountTtcFcfa: fcfa('Amount with taxes'),
  roundingFcfa: fcfa('Rounding').nullable(),
  energyKwh: kwh('Energy sold').nullable(),
  debtRecoveredFcfa: fcfa('Debt recovered on this sale').nullable(),
  debtRemainingFcfa: fcfa('Debt left after it').nullable(),
  tokens: z.array(z.string()).meta({ description: 'The STS codes to type into the meter (20 digits each).' }),
  bands: z
    .array(
      z.object({
        band: z.number().int().meta({ description: 'Tariff band, 1 to 3.' }),
        energyKwh: kwh('Energy in this band').nullable(),
        unitPriceFcfa: z.number().nullable().meta({ description: 'Price per kWh in this band, in FCFA per kWh (may have decimals).' }),
        amountFcfa: fcfa('Amount for this band').nullable(),
      }),
    )
    .meta({ description: 'The bands this sale was priced in.' }),
});

export const purchasesSchema = z.object({
  linkId: z.string(),
  meter: z.string().meta({ description: 'The prepaid meter number.' }),
  purchases: z.array(purchaseSchema).meta({ description: 'Newest first.' }),
  ...staleFields,
});

export const billSchema = z.object({
  id: z.string().meta({ description: 'The bill record (IDHistorique).' }),
  billNumber: z.string(),
  contractAccount: z.string(),
  partner: z.string().nullable(),
  issuedAt: instant('When the bill was issued'),
  dueAt: z.string().nullable().meta({ description: 'When it is due (ISO 8601, UTC).' }),
  billingMonth: z.number().int().meta({ description: 'The month billed, 1 to 12.' }),
  billingYear: z.number().int(),
  daysBilled: z.number().int().nullable(),
  meterNumber: z.string().nullable(),
  name: z.string().nullable(),
  address: z.string().nullable(),
  tariff: z.string().nullable(),
  billType: z.string().nullable(),
  agency: z.string().nullable(),
  customerType: z.string().nullable(),
  maxPower: z.number().nullable().meta({ description: 'PMAX as the bill prints it.' }),
  consumptionKwh: z
    .object({ band1: z.number().nullable(), band2: z.number().nullable(), band3: z.number().nullable(), total: z.number().nullable() })
    .meta({ description: 'Consumption per band and in all, in kWh.' }),
  lowVoltage: z
    .object({ amountHtFcfa: z.number().int().nullable(), amountTtcFcfa: z.number().int().nullable(), tcoFcfa: z.number().int().nullable(), totalFcfa: z.number().int().nullable() })
    .meta({ description: 'The low-voltage part of the bill, in FCFA.' }),
  vatFcfa: fcfa('VAT').nullable(),
  amountTtcFcfa: fcfa('Amount with taxes').nullable(),
  tcoFcfa: fcfa('Municipal tax (TCO)').nullable(),
  totalFcfa: fcfa('The total billed'),
});

export const billsSchema = z.object({
  linkId: z.string(),
  contractAccount: z.string(),
  bills: z.array(billSchema).meta({ description: 'Newest first.' }),
  ...staleFields,
});

export const monthlyPurchasesSchema = z.object({
  linkId: z.string(),
  year: z.number().int(),
  months: z
    .array(z.object({ month: z.number().int(), purchases: z.number().int(), amountPaidFcfa: fcfa('Paid in the month'), energyKwh: kwh('Energy bought in the month') }))
    .meta({ description: 'Twelve entries, January (1) to December (12); a month without purchases counts zero.' }),
  total: z.object({ purchases: z.number().int(), amountPaidFcfa: fcfa('Paid in the year'), energyKwh: kwh('Energy bought in the year') }),
  ...staleFields,
});

export const monthlyBillsSchema = z.object({
  linkId: z.string(),
  year: z.number().int(),
  months: z
    .array(z.object({ month: z.number().int(), bills: z.number().int(), totalFcfa: fcfa('Billed for the month'), energyKwh: kwh('Energy billed for the month') }))
    .meta({ description: 'Twelve entries by the month billed, January (1) to December (12); a month without bills counts zero.' }),
  total: z.object({ bills: z.number().int(), totalFcfa: fcfa('Billed for the year'), energyKwh: kwh('Energy billed for the year') }),
  ...staleFields,
});

const contractCommon = {
  linkId: z.string(),
  name: z.string().nullable().meta({ description: "The holder's name as the utility writes it." }),
  address: z.string().nullable(),
  agency: z.string().nullable(),
  phone: z.string().nullable().meta({ description: "The phone on file, E.164; null when none or not a valid number, and for a customer who reads the meter without owning it (the holder's phone and e-mail are shown to the owner, agents and admins)." }),
};

export const contractSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('prepaid'),
      meterNumber: z.string(),
      police: z.string().nullable().meta({ description: 'The POC (police number) of the meter.' }),
      customerNumber: z.string().nullable(),
      usage: z.string().nullable().meta({ description: 'What the supply is for (DOMESTIQUE, …).' }),
      ...contractCommon,
      ...staleFields,
    }),
    z.object({
      kind: z.literal('postpaid'),
      contractAccount: z.string(),
      partner: z.string().nullable().meta({ description: 'The SAP business partner holding the contract.' }),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      email: z.string().nullable().meta({ description: 'The e-mail on file; null as the phone is.' }),
      tariff: z.string().nullable(),
      ...contractCommon,
      ...staleFields,
    }),
  ])
  .meta({ description: 'prepaid: the SIC customer of the meter. postpaid: the contract account (SIC) and its business partner (BI_ODS). Fields the utility has not filled are null.' });

export type Purchases = z.output<typeof purchasesSchema>;
export type Bills = z.output<typeof billsSchema>;
export type MonthlyPurchases = z.output<typeof monthlyPurchasesSchema>;
export type MonthlyBills = z.output<typeof monthlyBillsSchema>;
export type Contract = z.output<typeof contractSchema>;

/** What every read names: who asks, and which of their links. */
interface ReadOf {
  readonly caller: Caller;
  readonly linkId: string;
}

export type MeterDataMessage =
  | ({ type: 'purchases'; query: ListQuery; replyTo: Reply<Purchases> } & ReadOf)
  | ({ type: 'monthly-purchases'; query: MonthlyQuery; replyTo: Reply<MonthlyPurchases> } & ReadOf)
  | ({ type: 'bills'; query: ListQuery; replyTo: Reply<Bills> } & ReadOf)
  | ({ type: 'monthly-bills'; query: MonthlyQuery; replyTo: Reply<MonthlyBills> } & ReadOf)
  | ({ type: 'contract'; replyTo: Reply<Contract> } & ReadOf);
