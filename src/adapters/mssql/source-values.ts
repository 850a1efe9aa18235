// The zod fields queries are built from: parameters to a source and values back, in the one form the API serves.
import { z } from 'zod';
import { toE164 } from '../../domain/phone.js';

// pg returns numeric and bigint columns as strings, tedious returns bigint as a string and decimal as a number.
const numeric = z.union([z.number(), z.string(), z.bigint()]).transform((value, ctx) => {
  const n = typeof value === 'string' ? Number(value.trim()) : Number(value);
  if (!Number.isFinite(n) || (typeof value === 'string' && value.trim() === '')) {
    ctx.addIssue({ code: 'custom', message: `is not a number: ${String(value)}` });
    return z.NEVER;
  }
  return n;
});

/** An amount in FCFA, which has no subunit: a decimal column's fraction is rounding noise. */
export const fcfa = numeric.transform((n) => Math.round(n));

/** Energy in kWh, kept with its decimals. */
export const kwh = numeric;

/** A count or any other whole number (COUNT(*) is a bigint string from pg). */
export const whole = numeric.pipe(z.number().int());

/** A price per kWh, in FCFA (it has decimals). */
export const rate = numeric;

// The sources' datetime columns hold Dakar time, which is UTC all year (no daylight saving): tedious reads them as
// UTC and the twins store timestamptz, so a Date from either is already the right instant.
const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/;

/** An instant as ISO 8601 (UTC). */
export const isoInstant = z.union([z.date(), z.string()]).transform((value, ctx) => {
  const date = typeof value === 'string' ? new Date(ZONED.test(value.trim()) ? value.trim() : `${value.trim()}Z`) : value;
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `is not a date: ${String(value)}` });
    return z.NEVER;
  }
  return date.toISOString();
});

/** Text as shown: fixed-width char columns come padded with spaces. */
export const text = z.string().transform((value) => value.trim());

/** Optional text: null, empty and blank all mean "none". */
export const optionalText = z
  .string()
  .nullable()
  .transform((value) => (value === null || value.trim() === '' ? null : value.trim()));

/** A number the utility keys by (account, partner, notice): digits only, without the leading zeros SAP pads with. */
export const keyNumber = z.union([z.string(), z.number(), z.bigint()]).transform((value) => {
  const trimmed = String(value).trim();
  return /^\d+$/.test(trimmed) ? trimmed.replace(/^0+(?=\d)/, '') : trimmed;
});

/** A phone number on file, in E.164; null when absent or not a valid number (it then matches nobody). */
export const phoneOnFile = z
  .string()
  .nullable()
  .transform((value) => (value === null ? null : (toE164(value) ?? null)));

/** `value` with leading zeros up to `width` digits: how SAP stores account and partner numbers. */
export function sapPadded(width: number) {
  return z
    .string()
    .trim()
    .regex(new RegExp(`^\\d{1,${width}}$`), `must be 1 to ${width} digits`)
    .transform((digits) => digits.padStart(width, '0'));
}
