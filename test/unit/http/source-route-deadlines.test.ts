// POST /v1/me/meters waits on a SIC lookup (CustomerDataReader's ask: 2 × SQL_QUERY_TIMEOUT_MS + 1 s) before its
// database work: the route's deadline follows the configured source timeout and stays past that ask, while the
// other meter routes keep the default deadline; the subscription lookup (BI_ODS) waits as long.
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../support/tokens.js';
import { fakeGateway, type Harness, startHttp } from './http-harness.js';

const VIEW = { id: '3f1c2a9e-3c1b-4a57-9b8e-0d6c1f0e2a11', kind: 'prepaid', meter: '14212345678', state: 'pending', owner: false, isDefault: false, agency: null, createdAt: '2026-12-03T00:00:00.000Z', decidedAt: null };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("the deadlines of the routes that read a source", () => {
  for (const sourceTimeoutMs of [2_000, 30_000]) {
    it(`gives POST /v1/me/meters more than the reader's ask with SQL_QUERY_TIMEOUT_MS=${sourceTimeoutMs}, the list the default`, async () => {
      const gateway = fakeGateway({ 'meters.link': () => VIEW, 'meters.list': () => ({ items: [VIEW] }), 'customer-data.subscription': () => ({ noticeNumber: '400001234', status: null, updatedAt: null, steps: [] }) });
      harness = await startHttp({ gateway, env: { SQL_QUERY_TIMEOUT_MS: String(sourceTimeoutMs) } });
      const auth = { authorization: `Bearer ${await mintToken({ role: 'customer' })}` };
      const posted = await harness.fetch('/v1/me/meters', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'prepaid', meter: '14212345678' }) });
      expect(posted.status).toBe(201);
      expect((await harness.fetch('/v1/me/meters', { headers: auth })).status).toBe(200);
      expect((await harness.fetch('/v1/subscriptions/400001234?phone=%2B221770000001')).status).toBe(200);
      const [link, list, subscription] = gateway.calls;
      expect(link).toMatchObject({ actor: 'meters', type: 'link' });
      expect(link!.deadlineMs).toBeGreaterThan(2 * sourceTimeoutMs + 1_000);
      expect(link!.deadlineMs).toBeGreaterThan(harness.config.queryDeadlineMs);
      expect(list).toMatchObject({ actor: 'meters', type: 'list', deadlineMs: harness.config.queryDeadlineMs });
      // The public subscription lookup reads BI_ODS: it waits as long as the link's SIC lookup.
      expect(subscription).toMatchObject({ actor: 'customer-data', type: 'subscription', deadlineMs: link!.deadlineMs });
    });
  }
});
