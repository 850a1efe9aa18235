// Issue 13, Build 4: a notification sent through the fake FCM moves samaconso_fcm_sends_total{outcome,priority}
// by one per device token and samaconso_scheduler_wait_seconds{priority} by one per chunk handed out; read before
// and after from /metrics like a scraper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJob, seedCustomers, waitJobsSettled } from '../support/dispatch.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { sampleSum, scrape } from '../support/prometheus-text.js';

let setup: DispatchNode;
beforeAll(async () => {
  setup = await startDispatchNode();
}, 60_000);
afterAll(async () => {
  await setup?.stop();
});

describe('push metrics', () => {
  it('counts each token sent through the fake FCM by outcome and priority, and the scheduler waits', async () => {
    const { node, sql, admin } = setup;
    const seeded = await seedCustomers(sql, 3, { devices: 1, agency: 'MET-A', prefix: 'met-a' });
    const before = await scrape(node.opsUrl);
    const sentBefore = sampleSum(before, 'samaconso_fcm_sends_total', { outcome: 'sent', priority: 'urgent' });
    const waitsBefore = sampleSum(before, 'samaconso_scheduler_wait_seconds_count', { priority: 'urgent' });

    const job = await postJob(node.apiUrl!, admin, { target: { kind: 'users', userIds: seeded.users }, type: 'outage', title: 'Panne', body: 'Panne en cours.' });
    await waitJobsSettled(sql, [job]);

    const after = await scrape(node.opsUrl);
    expect(sampleSum(after, 'samaconso_fcm_sends_total', { outcome: 'sent', priority: 'urgent' })).toBe(sentBefore + seeded.tokens.length);
    expect(sampleSum(after, 'samaconso_scheduler_wait_seconds_count', { priority: 'urgent' })).toBeGreaterThan(waitsBefore);
    const utilisation = sampleSum(after, 'samaconso_fcm_pool_utilisation');
    expect(utilisation).toBeGreaterThanOrEqual(0);
    expect(utilisation).toBeLessThanOrEqual(1);
  });
});
