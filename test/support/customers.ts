// Customers through the public HTTP API of a test node: calls from a chosen client address (the node trusts
// one proxy hop), the codes the sandbox SMS recorded, and a registered, proved customer in one step; and the
// node itself, on its own database and the manual clock, started and stopped around a file's (or describe's) tests.
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { ManualClock } from '../../src/clock.js';
import type { SentSms, SmsMessage } from '../../src/contracts/sms-messages.js';
import { createLogger } from '../../src/logger.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { testConfig } from './node.js';
import { createTestDatabase, type TestDatabase } from './services.js';
import { waitFor } from './wait.js';

export interface ApiAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, any>;
}

export const device = { deviceModel: 'Test Phone', platform: 'android' as const };

export function apiClient(node: () => RunningNode, ip = () => '198.51.100.200') {
  const call = async (method: string, path: string, body?: unknown, token?: string): Promise<ApiAnswer> => {
    const res = await fetch(`${node().apiUrl}${path}`, {
      method,
      headers: {
        'x-forwarded-for': ip(),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  };
  /** Every SMS the sandbox recorded for a phone, oldest first. */
  const smsTo = (phone: string): Promise<SentSms[]> => node().runtime.ask<SmsMessage, 'sandbox-outbox'>('sms', 'sandbox-outbox', { to: phone }, 1_000);
  /** The code of the latest SMS to a phone. */
  const lastCode = async (phone: string): Promise<string> => /(\d{6})/.exec((await smsTo(phone)).at(-1)!.text)![1]!;
  /** Registers and proves a customer; returns its E.164 phone. */
  const customer = async (phone: string, pin: string): Promise<string> => {
    const reg = await call('POST', '/v1/auth/register', { phone, firstName: 'Awa', lastName: 'Diop', pin });
    expect(reg.status).toBe(202);
    const e164 = reg.body.phone as string;
    expect((await call('POST', '/v1/auth/verify-phone', { phone: e164, code: await lastCode(e164), pin })).status).toBe(200);
    return e164;
  };
  const login = (phone: string, pin: string) => call('POST', '/v1/auth/login', { phone, pin, ...device });
  return { call, smsTo, lastCode, customer, login };
}

/**
 * A node for the customer routes, started in `beforeAll` and stopped in `afterAll` of the calling scope: its own
 * database (and a client on it), the manual clock, bcrypt at cost 4 (the same code path, fast), no Redis, one
 * trusted proxy hop with a new client address per call (so per-IP limits stay out of the way), and its log lines
 * kept at info level.
 */
export function customerNode(env: Record<string, string> = {}) {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 8));
  const hasher = bcryptPinHasher(4);
  const logLines: string[] = [];
  let db: TestDatabase | undefined;
  let node: RunningNode | undefined;
  let sql: pg.Client | undefined;
  let ip = 0;
  beforeAll(async () => {
    db = await createTestDatabase();
    node = await startNode(
      testConfig({ DATABASE_URL: db.url, REDIS_URL: undefined, TRUSTED_PROXY_HOPS: '1', ...env }),
      createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }),
      { clock, hasher },
    );
    const started = node;
    await waitFor('ready', () => started.runtime.readiness('test').ready);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await node?.stop();
    await db?.drop();
  });
  const running = () => node!;
  return {
    clock,
    hasher,
    logLines,
    node: running,
    sql: () => sql!,
    api: apiClient(running, () => `198.51.100.${++ip % 250}`),
  };
}
