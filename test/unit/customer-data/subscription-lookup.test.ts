// SubscriptionLookup over a fake reader and limiter: a stale answer is marked with its age, a fresh one is not,
// both limits are counted before the read (misses included), and a request whose rows disagree on the phone is refused.
import { describe, expect, it } from 'vitest';
import type { LimitedAction } from '../../../src/adapters/cache/ip-limiter.js';
import { TooManyRequestsError } from '../../../src/adapters/cache/ip-limiter.js';
import { type CustomerDataAnswer, type SubscriptionStep, SubscriptionLookup, SubscriptionNotFoundError } from '../../../src/customer-data/index.js';

const row = (step: number, phone: string | null = '+221771234567'): SubscriptionStep => ({
  noticeNumber: '400001234', step, description: `Etape ${step}`, doneAt: step === 1 ? '2026-01-10T09:30:00.000Z' : null, partner: '0001000001',
  firstName: 'Awa', lastName: 'Diop', phone, requestStatus: 'EN COURS', updatedAt: '2026-01-15T10:00:00.000Z',
});

function lookup(answer: CustomerDataAnswer<SubscriptionStep>, limited?: LimitedAction) {
  const counted: [LimitedAction, string][] = [];
  const reads: unknown[] = [];
  const service = new SubscriptionLookup({
    reader: { read: async (_query: unknown, input: unknown) => (reads.push(input), answer) } as never,
    limit: async (action, key) => {
      counted.push([action, key]);
      if (action === limited) throw new TooManyRequestsError(60_000);
    },
  });
  return { service, counted, reads };
}
const input = { noticeNumber: '400001234', phone: '+221771234567', ip: '198.18.0.1' };

describe('SubscriptionLookup', () => {
  it('marks a stale answer with stale and its age, and leaves both out of a fresh one', async () => {
    const stale = await lookup({ rows: [row(2), row(1)], stale: true, ageMs: 90_000.4 }).service.steps(input);
    expect(stale).toMatchObject({ stale: true, ageMs: 90_000 });
    expect(stale.steps.map((s) => s.step)).toEqual([1, 2]);
    const fresh = await lookup({ rows: [row(1)], stale: false, ageMs: 0 }).service.steps(input);
    expect(fresh).not.toHaveProperty('stale');
    expect(fresh).not.toHaveProperty('ageMs');
  });

  it('counts the address and the notice number before reading, for a miss as for a match', async () => {
    const miss = lookup({ rows: [], stale: false, ageMs: 0 });
    await expect(miss.service.steps(input)).rejects.toBeInstanceOf(SubscriptionNotFoundError);
    expect(miss.counted).toEqual([['subscription', '198.18.0.1'], ['subscription-notice', '400001234']]);
    const limited = lookup({ rows: [row(1)], stale: false, ageMs: 0 }, 'subscription-notice');
    await expect(limited.service.steps(input)).rejects.toBeInstanceOf(TooManyRequestsError);
    expect(limited.reads).toEqual([]);
  });

  it('refuses a request whose rows do not all carry the phone given, or carry none', async () => {
    await expect(lookup({ rows: [row(1), row(2, '+221781112233')], stale: false, ageMs: 0 }).service.steps(input)).rejects.toBeInstanceOf(SubscriptionNotFoundError);
    await expect(lookup({ rows: [row(1, null)], stale: false, ageMs: 0 }).service.steps(input)).rejects.toBeInstanceOf(SubscriptionNotFoundError);
  });
});
