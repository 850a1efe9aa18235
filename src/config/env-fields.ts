// How one environment variable reads: the zod field types the settings are declared with, and "is it set".
import { z } from 'zod';

export const optionalUrl = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(`${p}://`)), {
      message: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    });

export const bool = (dflt: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? dflt : ['true', '1', 'yes'].includes(v)));

export const int = (dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(dflt);

export const csv = z
  .string()
  .optional()
  .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

/** A trimmed string, undefined when empty. */
export const optionalText = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v));

/** Whether a raw variable holds something other than blanks (the cross-variable rules read raw values). */
export const isSet = (raw: NodeJS.ProcessEnv, key: string): boolean => (raw[key] ?? '').trim() !== '';

/** A raw boolean variable set to a true value. */
export const isYes = (raw: NodeJS.ProcessEnv, key: string): boolean => ['true', '1', 'yes'].includes((raw[key] ?? '').trim());
