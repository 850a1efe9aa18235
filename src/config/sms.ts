// The SMS gateway one-time codes go through (the utility's SOAP service), or the sandbox that records them.
import { z } from 'zod';
import { bool, int, optionalUrl } from './env-fields.js';

export const smsEnv = z.object({
  SMS_GATEWAY_URL: optionalUrl(['http', 'https']),
  SMS_GATEWAY_TIMEOUT_MS: int(5_000, 100, 8_000),
  /** Production only: accept an http:// gateway although it carries one-time codes in clear (logged at start). */
  SMS_GATEWAY_ALLOW_PLAINTEXT: bool(false),
});

type SmsEnv = z.infer<typeof smsEnv>;

/**
 * `gateway` calls the utility's SOAP service; without one, `sandbox` records messages (demo and tests only) and
 * `none` answers every send with SMS_UNAVAILABLE.
 */
export type SmsConfig = { mode: 'sandbox' } | { mode: 'gateway'; url: string; timeoutMs: number } | { mode: 'none' };

export function smsConfig(e: SmsEnv, sandbox: boolean): SmsConfig {
  return e.SMS_GATEWAY_URL ? { mode: 'gateway', url: e.SMS_GATEWAY_URL, timeoutMs: e.SMS_GATEWAY_TIMEOUT_MS } : { mode: sandbox ? 'sandbox' : 'none' };
}

/** The plain-text risk an override let through, as the start log names it. */
export function smsRisks(e: SmsEnv): string[] {
  const plaintext = e.SMS_GATEWAY_URL?.startsWith('http://') === true;
  return plaintext && e.SMS_GATEWAY_ALLOW_PLAINTEXT ? ['SMS_GATEWAY_ALLOW_PLAINTEXT: one-time codes cross the network in clear on their way to the SMS gateway (http://)'] : [];
}
