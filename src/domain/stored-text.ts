// Text that PostgreSQL stores: it refuses U+0000 in text and jsonb, so input is refused by name, first.
import { z } from 'zod';

/** A string without the NUL character (data keys and values: untrimmed, may be empty). */
export const withoutNul = (schema: z.ZodString): z.ZodString => schema.regex(/^[^\u0000]*$/, 'must not contain the NUL character');

/** Trimmed, 1 to `max` characters, without NUL. */
export const storedText = (max: number): z.ZodString => withoutNul(z.string().trim().min(1).max(max));
