// Sign-in settings: session lifetimes and the agents' directory re-check, the PIN lockout window, the SMS budgets of codes.
import { z } from 'zod';
import { DEFAULT_SESSION_POLICY } from '../domain/session-policy.js';
import { int } from './env-fields.js';

export const accountsEnv = z.object({
  /** Access tokens' lifetime; clients refresh before it ends (the on-call page a fifth of it, at most a minute, ahead). */
  ACCESS_TOKEN_TTL_MS: int(DEFAULT_SESSION_POLICY.accessTtlMs, 10_000, 3_600_000),
  /** Sessions (src/accounts/sessions.ts): absolute lifetimes from the login, and the directory re-check of agents. */
  CUSTOMER_SESSION_MAX_MS: int(DEFAULT_SESSION_POLICY.customerMaxMs, 60_000),
  AGENT_SESSION_MAX_MS: int(DEFAULT_SESSION_POLICY.agentMaxMs, 60_000),
  DIRECTORY_RECHECK_MS: int(DEFAULT_SESSION_POLICY.directoryRecheckMs, 1_000),
  DIRECTORY_GRACE_MS: int(DEFAULT_SESSION_POLICY.directoryGraceMs, 0),
  /** Live sessions one agent or admin may hold; a login past it ends the least recently used (customers keep 2). */
  AGENT_MAX_SESSIONS: int(DEFAULT_SESSION_POLICY.agentMaxActiveSessions, 1, 100),
  /** How long a wrong PIN counts towards the lockout (failures older than this stop counting). */
  PIN_FAILURE_WINDOW_MS: int(3_600_000, 60_000, 7 * 86_400_000),
  /** One-time codes sent to one phone in any hour, whoever asks (registration and PIN reset together). */
  SMS_REQUESTS_PER_PHONE_PER_HOUR: int(3, 1, 100),
  SMS_PER_PHONE_PER_DAY: int(5, 1, 1_000),
  SMS_OVERALL_PER_DAY: int(20_000, 1),
  /** Share of SMS_OVERALL_PER_DAY at which the alarm goes (a warning line, and the metric's threshold). */
  SMS_BUDGET_ALARM_RATIO: z.coerce.number().gt(0).max(1).default(0.8),
});

type AccountsEnv = z.infer<typeof accountsEnv>;

export interface AccountsConfig {
  pinFailureWindowMs: number;
  smsPerPhonePerHour: number;
  smsPerPhonePerDay: number;
  smsOverallPerDay: number;
  smsBudgetAlarmRatio: number;
}

export function accountsConfig(e: AccountsEnv): AccountsConfig {
  return {
    pinFailureWindowMs: e.PIN_FAILURE_WINDOW_MS,
    smsPerPhonePerHour: e.SMS_REQUESTS_PER_PHONE_PER_HOUR,
    smsPerPhonePerDay: e.SMS_PER_PHONE_PER_DAY,
    smsOverallPerDay: e.SMS_OVERALL_PER_DAY,
    smsBudgetAlarmRatio: e.SMS_BUDGET_ALARM_RATIO,
  };
}
