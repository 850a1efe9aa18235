// PINs an attacker tries first (spraying pays because people pick the same few), refused wherever a customer
// chooses a PIN. Pure: the caller throws WeakPinError (src/accounts/strong-pin.ts), one code per rule.

import { z } from 'zod';

/** The PIN's form wherever one is chosen: 4 to 6 digits. */
export const pinField = z.string().regex(/^[0-9]{4,6}$/, 'must be 4 to 6 digits').meta({ example: '4821' });

export type WeakPinRule = 'REPEATED' | 'SEQUENCE' | 'COMMON' | 'PHONE';

/**
 * The commonest PINs beyond the repeated digits and runs the other rules catch: repeated pairs and halves,
 * keypad lines and columns, years people pick (from published studies of leaked PIN sets).
 */
const COMMON_PINS: ReadonlySet<string> = new Set([
  '1212', '1313', '1010', '2020', '6969', '1122', '2211', '1221', '2112', '4545', '5454',
  '1004', '2000', '2001', '2002', '2010', '1990', '1991', '1992', '1995', '1999', '1980', '1985',
  '2580', '0852', '1470', '0741', '1478', '3690', '7410', '1590',
  '123123', '121212', '112233', '123321', '159753', '147258', '258369', '789456', '101010', '131313', '696969', '147852',
]);

const RULE_TEXT: Record<WeakPinRule, string> = {
  REPEATED: 'The PIN repeats one digit; choose one that is harder to guess.',
  SEQUENCE: 'The PIN is a run of digits (like 1234 or 9876); choose one that is harder to guess.',
  COMMON: 'The PIN is one of the most common PINs; choose one that is harder to guess.',
  PHONE: 'The PIN is the end of the phone number; choose one that is harder to guess.',
};

/** Each digit one more (or one less) than the one before, 9 → 0 included (7890, 3210, 0987). */
function isRun(pin: string): boolean {
  const step = (Number(pin[1]) - Number(pin[0]) + 10) % 10;
  if (step !== 1 && step !== 9) return false;
  for (let i = 1; i < pin.length; i++) if ((Number(pin[i]) - Number(pin[i - 1]) + 10) % 10 !== step) return false;
  return true;
}

/** The rule a PIN breaks, or undefined when it breaks none. `phone` is E.164 (its last digits must not be the PIN). */
export function weakPinRule(pin: string, phone: string | null): WeakPinRule | undefined {
  if (/^(\d)\1*$/.test(pin)) return 'REPEATED';
  if (isRun(pin)) return 'SEQUENCE';
  if (COMMON_PINS.has(pin)) return 'COMMON';
  if (phone && phone.endsWith(pin)) return 'PHONE';
  return undefined;
}

/** What the customer is told for a broken rule. */
export function weakPinMessage(rule: WeakPinRule): string {
  return RULE_TEXT[rule];
}
