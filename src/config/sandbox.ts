// When the sandboxes may stand in for what is not configured, and what is unavailable when they may not.
import type { FcmConfig } from './fcm.js';
import type { Role } from './instance.js';
import type { LdapConfig } from './ldap.js';
import type { SmsConfig } from './sms.js';

/** The demo (embedded database outside production) and an explicit APP_ENV=test: see Config.sandbox. */
export function sandboxAllowed(appEnv: 'development' | 'test' | 'production', externalDatabase: boolean): boolean {
  return appEnv === 'test' || (appEnv !== 'production' && !externalDatabase);
}

/** The parts of a Config that unavailableParts reads. */
export interface SandboxedParts {
  readonly sandbox: boolean;
  readonly role: Role;
  readonly ldap: LdapConfig | undefined;
  readonly sms: SmsConfig;
  readonly dispatch: { readonly fcm: FcmConfig };
}

/**
 * What this configuration leaves unavailable because no sandbox may stand in for it, one line each, for the start
 * log: an operator who forgot LDAP_URL learns it there rather than from an agent's 503.
 */
export function unavailableParts(config: SandboxedParts): string[] {
  if (config.sandbox) return [];
  const why = 'the sandbox exists only in the demo (embedded database) and with APP_ENV=test';
  const lines: string[] = [];
  if (config.role !== 'worker' && !config.ldap) lines.push(`no LDAP_URL: agent logins answer 503 DIRECTORY_UNAVAILABLE (${why})`);
  if (config.role !== 'worker' && config.sms.mode === 'none') lines.push(`no SMS_GATEWAY_URL: one-time codes answer 503 SMS_UNAVAILABLE (${why})`);
  if (config.role !== 'api' && config.dispatch.fcm.mode === 'none') lines.push(`no FCM_PROJECT_ID: this worker consumes no queue, notifications wait in RabbitMQ (${why})`);
  return lines;
}
