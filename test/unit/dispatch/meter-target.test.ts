// The `meter` notification target at the edge (schema, OpenAPI, idempotency hash) and the live hub's broadcast rule
// with meter links (the database side of both: test/integration/meter-targets.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { broadcastReaches } from '../../../src/adapters/live-bus/live-event.js';
import { notificationRequestBody } from '../../../src/contracts/notifications-messages.js';
import { type NotificationRequest, requestHash } from '../../../src/domain/notification-request.js';
import { type Harness, startHttp } from '../http/http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const body = (target: unknown) => notificationRequestBody.safeParse({ target, type: 'planned_works', title: 'Coupure', body: 'Travaux' });

describe('the meter target', () => {
  it('is accepted with a meter number, trimmed, 1 to 32 characters; nothing else stands for one', () => {
    expect(body({ kind: 'meter', meter: ' 14250011223 ' })).toMatchObject({ success: true, data: { target: { kind: 'meter', meter: '14250011223' } } });
    for (const bad of [{ kind: 'meter' }, { kind: 'meter', meter: '' }, { kind: 'meter', meter: '   ' }, { kind: 'meter', meter: 'x'.repeat(33) }, { kind: 'meter', meter: 42 }]) {
      expect(body(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('is one of the target kinds POST /v1/notifications documents in /openapi.json', async () => {
    harness = await startHttp();
    const doc = (await (await harness.fetch('/openapi.json')).json()) as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const request = JSON.stringify(doc.paths['/v1/notifications']?.post?.requestBody);
    for (const kind of ['user', 'users', 'meter', 'agency', 'all_agencies', 'everyone']) expect(request).toContain(`"enum":["${kind}"]`);
  });

  it('hashes the same request the same way and another meter differently (idempotency keys)', () => {
    const req = (meter: string): NotificationRequest => ({ target: { kind: 'meter', meter }, type: 'planned_works', title: 'T', body: 'B', data: {} });
    expect(requestHash(req('M-1')).equals(requestHash(req('M-1')))).toBe(true);
    expect(requestHash(req('M-1')).equals(requestHash(req('M-2')))).toBe(false);
  });
});

describe('a broadcast on a live socket, with meter links', () => {
  const user = { agency: null, createdAt: '2026-01-01T00:00:00.000Z', links: [{ agency: 'KLK', since: '2026-02-01T00:00:00.000Z' }] };
  const at = '2026-03-01T00:00:00.000Z';

  it("reaches a customer through a link of the agency active when it was sent, as the inbox's join does", () => {
    expect(broadcastReaches({ kind: 'agency', agency: 'KLK' }, at, user)).toBe(true);
    expect(broadcastReaches({ kind: 'all_agencies' }, at, user)).toBe(true);
    expect(broadcastReaches({ kind: 'agency', agency: 'DKR' }, at, user)).toBe(false);
    expect(broadcastReaches({ kind: 'agency', agency: 'KLK' }, '2026-01-15T00:00:00.000Z', user)).toBe(false);
    expect(broadcastReaches({ kind: 'all_agencies' }, at, { ...user, links: [] })).toBe(false);
    expect(broadcastReaches({ kind: 'agency', agency: 'DKR' }, at, { ...user, agency: 'DKR', links: [] })).toBe(true);
  });
});
