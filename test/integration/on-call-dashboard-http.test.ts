// The on-call dashboard over HTTP with the real services: its page and files are public and hold no data (the same
// bytes as the files on disk, whoever asks) under a strict CSP; GET /admin/events is admin-only and streams
// snapshots whose parts come from the owners (the tree, readiness, the broker's counters, PostgreSQL); FCM outcomes
// per minute are what the batch ledger recorded (recordBatch) in sent_batches.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import type { OnCallSnapshot } from '../../src/contracts/on-call-messages.js';
import { recordBatch } from '../../src/dispatch/batch-ledger.js';
import type { RunningNode } from '../../src/node.js';
import { DASHBOARD_CSP } from '../../http/routes/on-call-page-routes.js';
import { startTestNode } from '../support/node.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { mintToken } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const DASHBOARD_DIR = new URL('../../http/dashboard/', import.meta.url);
const ASSETS = ['dashboard.js', 'session.js', 'event-stream.js', 'actions.js', 'render-cluster.js', 'render-panels.js', 'charts.js', 'dom.js', 'dashboard.css', 'icon.svg'];

let db: TestDatabase;
let vhost: TestVhost;
let node: RunningNode;
let pool: pg.Pool;
let admin: string;
let adminId: string;

beforeAll(async () => {
  const env = servicesEnv();
  if (!env.TEST_RABBITMQ_MANAGEMENT_URL) throw new Error('no TEST_RABBITMQ_MANAGEMENT_URL: run `bash ops/services.sh start` again');
  db = await createTestDatabase();
  vhost = await createTestVhost();
  node = await startTestNode({
    DATABASE_URL: db.url,
    AMQP_URL: vhost.url,
    RABBITMQ_MANAGEMENT_URL: env.TEST_RABBITMQ_MANAGEMENT_URL,
    RABBITMQ_MANAGEMENT_USER: 'guest',
    RABBITMQ_MANAGEMENT_PASSWORD: 'guest',
    ADMIN_EVENTS_INTERVAL_MS: '500',
  });
  await waitFor('ready', () => node.runtime.readiness('test').ready, 60_000);
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  adminId = (await pool.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.oncall', 'admin', now()) RETURNING id`)).rows[0]!.id;
  admin = await mintToken({ role: 'admin', sub: adminId });
}, 90_000);
afterAll(async () => {
  await pool?.end();
  await node?.stop();
  await vhost?.delete();
  await db?.drop();
});

/** Reads the stream until `until` accepts a snapshot, then aborts it. */
async function snapshotWhere(token: string, until: (s: OnCallSnapshot) => boolean, timeoutMs = 30_000): Promise<OnCallSnapshot> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(`${node.apiUrl}/admin/events`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    // Not compressed, even when the client accepts gzip: zlib would hold the events back.
    expect(res.headers.get('content-encoding')).toBeNull();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!block.startsWith('event: snapshot') || !data) continue;
        const snapshot = JSON.parse(data) as OnCallSnapshot;
        if (until(snapshot)) return snapshot;
      }
    }
    throw new Error('the stream ended without the expected snapshot');
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe('the dashboard page and its files (public, no data)', () => {
  it('serves the page under a strict CSP, the same bytes as the file on disk with or without a token', async () => {
    const anonymous = await fetch(`${node.apiUrl}/admin`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = anonymous.headers.get('content-security-policy')!;
    expect(csp).toBe(DASHBOARD_CSP);
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "require-trusted-types-for 'script'"])
      expect(csp.split('; ')).toContain(directive);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(anonymous.headers.get('set-cookie')).toBeNull();
    const page = Buffer.from(await anonymous.arrayBuffer());
    expect(page.equals(await readFile(new URL('index.html', DASHBOARD_DIR)))).toBe(true);
    const asAdmin = await fetch(`${node.apiUrl}/admin`, { headers: { authorization: `Bearer ${admin}` } });
    expect(Buffer.from(await asAdmin.arrayBuffer()).equals(page)).toBe(true);
  });

  it('serves each listed file as it is on disk with its type and nosniff; anything else is a 404', async () => {
    for (const file of ASSETS) {
      const res = await fetch(`${node.apiUrl}/admin/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-type')).toMatch(file.endsWith('.js') ? /^text\/javascript/ : file.endsWith('.css') ? /^text\/css/ : /^image\/svg\+xml/);
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(new URL(file, DASHBOARD_DIR))), file).toBe(true);
    }
    for (const path of ['/admin/assets/index.html', '/admin/assets/..%2F..%2Fpackage.json', '/admin/assets/nothing.js']) {
      const res = await fetch(`${node.apiUrl}${path}`);
      expect(res.status, path).toBe(404);
    }
  });
});

describe('GET /admin/events', () => {
  it('refuses no token (401) and customers and agents (403)', async () => {
    expect((await fetch(`${node.apiUrl}/admin/events`)).status).toBe(401);
    for (const role of ['customer', 'agent'] as const) {
      const res = await fetch(`${node.apiUrl}/admin/events`, { headers: { authorization: `Bearer ${await mintToken({ role })}` } });
      expect(res.status, role).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('FORBIDDEN');
    }
  });

  it("streams snapshots: the control plane's node and tree with its consumers, readiness, the queues from the broker, jobs and dead letters", async () => {
    const s = await snapshotWhere(admin, (x) => x.cluster.ok && x.cluster.value.trees.length > 0 && x.queues.ok && x.health.ok && x.jobs.ok && x.deadLetters.ok && x.fcm.ok);
    if (!s.cluster.ok || !s.queues.ok || !s.health.ok || !s.fcm.ok || !s.jobs.ok) throw new Error('narrowing');
    // The control plane's view: this node, alive in the registry, with the tree it published.
    expect(s.cluster.value.nodes.map((n) => n.role)).toEqual(['all']);
    const tree = s.cluster.value.trees[0]!.tree;
    const consumers = tree.children!.find((c) => c.name === 'consumers')!;
    expect(consumers.children!.map((c) => c.name)).toEqual(['consumer-urgent', 'consumer-high_priority', 'consumer-normal', 'consumer-low_priority']);
    expect(s.queues.value.map((q) => q.name)).toEqual(['urgent', 'high_priority', 'normal', 'low_priority', 'dead_letters']);
    expect(s.health.value.parts.map((p) => p.name)).toEqual(expect.arrayContaining(['postgres', 'cache', 'broker']));
    expect(s.fcm.value).toHaveLength(30);
  });

  it('shows FCM outcomes per minute from the batches the ledger recorded, and a new job with its title as written', async () => {
    const title = 'Coupure <img src=x onerror="alert(1)">';
    const jobId = (
      await pool.query<{ id: string }>(
        `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, created_at, updated_at)
         VALUES (gen_random_uuid(), $1, 'admin', '{"kind":"everyone"}', 'planned_works', 'low_priority', $2, 'Travaux', '\\x00', 'sending', now(), now()) RETURNING id`,
        [adminId, title],
      )
    ).rows[0]!.id;
    const handle = poolHandle(pool);
    const at = new Date();
    const base = { jobId, at, remove: [], owner: 'test', followups: [] };
    expect(await recordBatch(handle, { ...base, batchId: `${jobId}:0`, sent: 7, failed: 1, removed: 2, retried: 3 })).toBe(true);
    expect(await recordBatch(handle, { ...base, batchId: `${jobId}:1`, sent: 5, failed: 0, removed: 0, retried: 1 })).toBe(true);
    const s = await snapshotWhere(admin, (x) => x.fcm.ok && x.fcm.value.some((m) => m.sent >= 12) && x.jobs.ok && x.jobs.value.some((j) => j.id === jobId));
    if (!s.fcm.ok || !s.jobs.ok) throw new Error('narrowing');
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString();
    expect(s.fcm.value.find((m) => m.minute === minute)).toEqual({ minute, sent: 12, retried: 4, removed: 2, failed: 1 });
    expect(s.fcm.value.filter((m) => m.minute !== minute).every((m) => m.sent + m.retried + m.removed + m.failed === 0)).toBe(true);
    expect(s.jobs.value.find((j) => j.id === jobId)!.title).toBe(title);
  });
});

describe('GET /admin/events at shutdown', () => {
  // A node of its own, with a shutdown timeout far beyond the test's: a stream holding the shutdown fails the test.
  let own: RunningNode;
  beforeAll(async () => {
    own = await startTestNode({ DATABASE_URL: db.url, ADMIN_EVENTS_INTERVAL_MS: '500', SHUTDOWN_TIMEOUT_MS: '120000' });
    await waitFor('ready', () => own.runtime.readiness('test').ready, 60_000);
  }, 90_000);
  afterAll(() => own?.stop());

  it('ends open streams with `closing` when the process stops, rather than holding the shutdown', async () => {
    const res = await fetch(`${own.apiUrl}/admin/events`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('event: snapshot')) text += decoder.decode((await reader.read()).value, { stream: true });
    const stopped = own.stop();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('event: closing');
    await stopped;
  });
});
