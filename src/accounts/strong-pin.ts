// Refuses a weak PIN wherever a customer chooses one: the pure rule is src/domain/pin-rules.ts, the error is here.
import { weakPinMessage, weakPinRule } from '../domain/pin-rules.js';
import { WeakPinError } from './account-errors.js';

/** Throws WEAK_PIN_<rule> (400) for a PIN that breaks a rule. */
export function assertStrongPin(pin: string, phone: string | null): void {
  const rule = weakPinRule(pin, phone);
  if (rule) throw new WeakPinError(rule, weakPinMessage(rule));
}
