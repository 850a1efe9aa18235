// Customers through the public HTTP API of a test node: calls from a chosen client address (the node trusts
// one proxy hop), the codes the sandbox SMS recorded, and a registered, proved customer in one step.
import { expect } from 'vitest';
import type { SentSms, SmsMessage } from '../../src/contracts/sms.js';
import type { RunningNode } from '../../src/node.js';

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
