// What the accounts service reports about abuse of the public routes, per process, read by /metrics at scrape
// time: refused sign-ins (PIN spraying — a few PINs over many accounts — locks no account but shows as a rate),
// the overall daily SMS budget (an alarm line once a day when it reaches SMS_BUDGET_ALARM_RATIO, an error
// line once a day when it is spent) and the SMS it refused by limit. Outlives restarts of the accounts actor.
import type { Logger } from '../logger.js';

export type SmsLimit = 'phone-hour' | 'phone-day' | 'overall';
export type LoginKind = 'customer' | 'agent';

export class AuthWatch {
  /** SMS counted against the overall budget on the last day this process sent one, and that budget. */
  overallSent = 0;
  overallLimit = 0;
  readonly smsRefusals: Record<SmsLimit, number> = { 'phone-hour': 0, 'phone-day': 0, overall: 0 };
  /** Sign-ins refused for a wrong PIN or password or an unknown account, since the process started. */
  readonly loginFailures: Record<LoginKind, number> = { customer: 0, agent: 0 };
  private day = '';
  private alarmed = false;
  private spent = false;

  constructor(
    private readonly log: Pick<Logger, 'warn' | 'error'>,
    private readonly alarmRatio: number,
  ) {}

  private onDay(day: string): void {
    if (day === this.day) return;
    this.day = day;
    this.alarmed = false;
    this.spent = false;
  }

  loginFailed(kind: LoginKind): void {
    this.loginFailures[kind]++;
  }

  /** One SMS counted against the overall budget: `sent` of `limit` today. */
  smsReserved(day: string, sent: number, limit: number): void {
    this.onDay(day);
    this.overallSent = sent;
    this.overallLimit = limit;
    if (!this.alarmed && sent >= this.alarmRatio * limit) {
      this.alarmed = true;
      this.log.warn({ day, sent, limit, ratio: this.alarmRatio }, 'SMS budget: the overall daily budget is nearly spent (SMS_BUDGET_ALARM_RATIO reached)');
    }
  }

  /** An SMS refused by one of the budgets. */
  smsRefused(limit: SmsLimit, day: string): void {
    this.onDay(day);
    this.smsRefusals[limit]++;
    if (limit === 'overall' && !this.spent) {
      this.spent = true;
      this.log.error({ day, limit: this.overallLimit }, 'SMS budget: the overall daily budget is spent; no one-time code can be sent until tomorrow (UTC)');
    }
  }

  /** The share of the overall budget used, as last seen. */
  get overallRatio(): number {
    return this.overallLimit > 0 ? this.overallSent / this.overallLimit : 0;
  }
}
