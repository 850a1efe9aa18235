// Phone numbers, normalised to E.164 at every boundary (Senegal is the default country).
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';

/** The E.164 form of `input`, or undefined when it is not a valid number. */
export function toE164(input: string, defaultCountry: 'SN' = 'SN'): string | undefined {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** A zod field that accepts any common way of writing a number and yields its E.164 form. */
export const phoneField = z
  .string()
  .max(32)
  .transform((v, ctx) => {
    const e164 = toE164(v);
    if (!e164) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid phone number' });
      return z.NEVER;
    }
    return e164;
  })
  .meta({ example: '+221771234567', description: 'Any usual format; stored and compared in E.164.' });

/** For logs: the last three digits only. */
export function maskPhone(e164: string): string {
  return `${'*'.repeat(Math.max(0, e164.length - 3))}${e164.slice(-3)}`;
}
