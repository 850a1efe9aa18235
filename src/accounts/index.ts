// The accounts feature's public module: what other features may use of accounts.
export { purgePastBudgetDays } from './sms-budget.js';
export type { AuthWatch, LoginKind, SmsLimit } from './auth-watch.js';
export { InvalidRefreshTokenError } from './account-errors.js';
