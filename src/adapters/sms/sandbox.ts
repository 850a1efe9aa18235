// The SMS sandbox transport: records what would have been sent, in memory and bounded (development, tests, demo).
import { randomUUID } from 'node:crypto';
import type { SentSms } from '../../contracts/sms-messages.js';

export class SmsSandbox {
  private readonly sent: SentSms[] = [];

  /** @param capacity only the most recent messages are kept. @defaultValue 1_000 */
  constructor(private readonly capacity = 1_000) {}

  /** Records one message at `atMs` (from the injected clock) and returns it with its new id. */
  record(to: string, text: string, atMs: number): SentSms {
    const sms: SentSms = { id: randomUUID(), to, text, at: new Date(atMs).toISOString() };
    this.sent.push(sms);
    if (this.sent.length > this.capacity) this.sent.splice(0, this.sent.length - this.capacity);
    return sms;
  }

  /** The recorded messages, oldest first, optionally only those to one phone (E.164). */
  list(to?: string): SentSms[] {
    return to === undefined ? [...this.sent] : this.sent.filter((s) => s.to === to);
  }
}
