// The worker's dispatch handler against the real PostgreSQL (a database of this file), with the sandbox FCM sender
// and a recording stub behind the Broker interface: a job delivery fans out into batches, a batch delivery sends each
// token once and counts, a duplicate batch sends nothing more, UNREGISTERED removes the token, UNAVAILABLE
// republishes a retry batch of just those tokens, garbage is rejected.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, Delivery, PublishOptions, RetryOptions } from '../../src/adapters/broker/broker.js';
import type { PriorityQueue } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import type { DispatchBatchMessage } from '../../src/dispatch/delivery-body.js';
import { createDispatchHandler, type DispatchResult } from '../../src/dispatch/dispatch-handler.js';
import { createSandboxFcmSender, type SandboxFcmSender } from '../../src/adapters/fcm/sandbox-sender.js';
import { waitFor } from '../support/wait.js';
import { ServiceUnavailableError } from '../../src/errors/app-error.js';
import { BrokerUnavailableError } from '../../src/adapters/broker/broker.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const clock = new SystemClock();
let db: TestDatabase;
let pool: pg.Pool;
let handle: PgHandle;
let adminId: string;

interface Sent {
  queue: PriorityQueue;
  messageId: string;
  body: DispatchBatchMessage;
  retry?: RetryOptions;
}

function recordingBroker(): Broker & { published: Sent[]; retried: Sent[]; dead: Array<Sent & { reason: string; attempts: number }> } {
  const published: Sent[] = [];
  const retried: Sent[] = [];
  const dead: Array<Sent & { reason: string; attempts: number }> = [];
  const stub = {
    kind: 'memory' as const,
    isUp: true,
    published,
    retried,
    dead,
    deadLetter(queue: PriorityQueue, body: Buffer, reason: string, attempts: number, options: { messageId: string }): Promise<void> {
      dead.push({ queue, messageId: options.messageId, body: JSON.parse(body.toString()) as DispatchBatchMessage, reason, attempts });
      return Promise.resolve();
    },
    publish(queue: PriorityQueue, body: Buffer, options: PublishOptions): Promise<void> {
      published.push({ queue, messageId: options.messageId, body: JSON.parse(body.toString()) as DispatchBatchMessage });
      return Promise.resolve();
    },
    retry(queue: PriorityQueue, body: Buffer, options: RetryOptions): Promise<void> {
      retried.push({ queue, messageId: options.messageId, body: JSON.parse(body.toString()) as DispatchBatchMessage, retry: options });
      return Promise.resolve();
    },
  };
  return stub as unknown as Broker & { published: Sent[]; retried: Sent[]; dead: Array<Sent & { reason: string; attempts: number }> };
}

const delivery = (body: unknown, options: { messageId?: string; attempt?: number; queue?: PriorityQueue } = {}): Delivery => ({
  queue: options.queue ?? 'high_priority',
  body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
  messageId: options.messageId,
  headers: {},
  priority: undefined,
  redelivered: false,
  deliveryCount: 0,
  attempt: options.attempt ?? 0,
});

function setup(): { broker: ReturnType<typeof recordingBroker>; sender: SandboxFcmSender; results: DispatchResult[]; handler: (d: Delivery) => Promise<string> } {
  const broker = recordingBroker();
  const sender = createSandboxFcmSender();
  const results: DispatchResult[] = [];
  const handler = createDispatchHandler({
    db: async () => handle,
    broker: async () => broker,
    pipeline: async () => ({ send: (_queue, messages) => sender.sendBatch(messages) }),
    clock,
    fanOut: { batchSize: 3, pageSize: 2 },
    onResult: (r) => results.push(r),
  });
  return { broker, sender, results, handler };
}

async function users(count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO users (id, phone, role, agency_code, created_at)
     SELECT gen_random_uuid(), '+2217' || lpad((nextval('test_phone_seq'))::text, 8, '0'), 'customer', 'DKR', now() FROM generate_series(1, $1)
     RETURNING id`,
    [count],
  );
  return rows.map((r) => r.id);
}

async function sessions(userIds: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ push_token: string }>(
    `INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
     SELECT gen_random_uuid(), u, gen_random_uuid(), 'Pixel', 'android', 'tok-' || gen_random_uuid(), uuid_send(gen_random_uuid()), now(), now() + interval '30 days', now(), now(), 'active'
       FROM unnest($1::uuid[]) AS u
     RETURNING push_token`,
    [userIds],
  );
  return rows.map((r) => r.push_token);
}

async function job(userIds: string[]): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, data, request_hash, created_at, updated_at)
     VALUES (gen_random_uuid(), $1, 'admin', $2, 'low_credit', 'high_priority', 'Crédit faible', 'Rechargez', '{"meter":"123"}', '\\x00', now(), now()) RETURNING id`,
    [adminId, JSON.stringify({ kind: 'users', userIds })],
  );
  return rows[0]!.id;
}

const counts = async (id: string) =>
  (
    await pool.query<{ sent_count: number; failed_count: number; retried_count: number; tokens_removed_count: number }>(
      `SELECT sent_count, failed_count, retried_count, tokens_removed_count FROM notification_jobs WHERE id = $1`,
      [id],
    )
  ).rows[0]!;

/** A job of `n` users with one device each, fanned out through the handler: its id, tokens and published batches. */
async function fannedOut(n: number, s: ReturnType<typeof setup>): Promise<{ id: string; tokens: string[] }> {
  const ids = await users(n);
  const tokens = await sessions(ids);
  const id = await job(ids);
  expect(await s.handler(delivery({ kind: 'notification-job', jobId: id, type: 'low_credit', queue: 'high_priority' }))).toBe('ack');
  return { id, tokens };
}

/** Registers a node that is alive for an hour; its incarnation. */
async function liveNode(nodeId: string): Promise<string> {
  const { rows } = await pool.query<{ incarnation: string }>(
    `INSERT INTO nodes (node_id, incarnation, role, host, pid, started_at, heartbeat_at, alive_until)
     VALUES ($1 || ':' || gen_random_uuid(), gen_random_uuid(), 'worker', 'test', 1, now(), now(), now() + interval '1 hour') RETURNING incarnation`,
    [nodeId],
  );
  return rows[0]!.incarnation;
}

/** Answers recorded as progress steps of a batch. */
const answersRecorded = async (batchId: string): Promise<number> =>
  (await pool.query<{ n: number }>(`SELECT coalesce(sum(jsonb_array_length(answers)), 0)::int AS n FROM batch_progress WHERE batch_id = $1`, [batchId])).rows[0]!.n;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  handle = poolHandle(pool);
  await pool.query(`CREATE SEQUENCE test_phone_seq`);
  await pool.query(`INSERT INTO agencies (code, name) VALUES ('DKR', 'Dakar') ON CONFLICT DO NOTHING`);
  adminId = (await pool.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.dispatch', 'admin', now()) RETURNING id`)).rows[0]!.id;
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('dispatch handler', () => {
  it('fans a job out into batches, sends every token exactly once, counts, and drops a duplicate batch', async () => {
    const s = setup();
    const { id, tokens } = await fannedOut(7, s);
    expect(s.broker.published).toHaveLength(3); // 3 + 3 + 1
    expect(s.broker.published.map((p) => p.messageId)).toEqual([`${id}:0`, `${id}:1`, `${id}:2`]);

    for (const p of s.broker.published) expect(await s.handler(delivery(p.body, { messageId: p.messageId }))).toBe('ack');
    expect(s.sender.recorded.map((m) => m.token).sort()).toEqual([...tokens].sort());
    const first = s.sender.recorded[0]!;
    expect(first.notification).toEqual({ title: 'Crédit faible', body: 'Rechargez' });
    expect(first.data).toEqual({ meter: '123', job_id: id, type: 'low_credit' });
    expect(first.android).toMatchObject({ priority: 'high', ttl: 43_200_000, collapseKey: 'low_credit' });
    expect(await counts(id)).toEqual({ sent_count: 7, failed_count: 0, retried_count: 0, tokens_removed_count: 0 });
    const { rows: done } = await pool.query<{ batch_id: string }>(`SELECT batch_id FROM sent_batches WHERE job_id = $1 ORDER BY batch_id`, [id]);
    expect(done.map((r) => r.batch_id)).toEqual([`${id}:0`, `${id}:1`, `${id}:2`]);

    // Redelivered / re-published batch: nothing more is sent or counted.
    const again = s.broker.published[1]!;
    expect(await s.handler(delivery(again.body, { messageId: again.messageId }))).toBe('ack');
    expect(s.sender.sentCount).toBe(7);
    expect(s.results.at(-1)).toMatchObject({ kind: 'batch', detail: 'duplicate: batch already done' });
    expect(await counts(id)).toEqual({ sent_count: 7, failed_count: 0, retried_count: 0, tokens_removed_count: 0 });

    // The job message delivered again: fan-out is done, publishes nothing.
    expect(await s.handler(delivery({ kind: 'notification-job', jobId: id }))).toBe('ack');
    expect(s.broker.published).toHaveLength(3);
  });

  it('removes the token of an UNREGISTERED device and republishes UNAVAILABLE ones as a smaller retry batch', async () => {
    const s = setup();
    const { id } = await fannedOut(3, s);
    const batch = s.broker.published[0]!;
    expect(batch.body.tokens).toHaveLength(3);
    const [gone, busy, fine] = batch.body.tokens;
    s.sender.script(gone!.token, { kind: 'remove-token', code: 'UNREGISTERED' });
    s.sender.script(busy!.token, { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 30_000 }, 1);

    expect(await s.handler(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    const { rows } = await pool.query<{ id: string; push_token: string | null }>(`SELECT id, push_token FROM device_sessions WHERE id = ANY($1::uuid[])`, [
      [gone!.sessionId, fine!.sessionId],
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.push_token]))).toEqual({ [gone!.sessionId]: null, [fine!.sessionId]: fine!.token });
    expect(await counts(id)).toEqual({ sent_count: 1, failed_count: 0, retried_count: 1, tokens_removed_count: 1 });

    expect(s.broker.retried).toHaveLength(1);
    const retry = s.broker.retried[0]!;
    expect(retry.queue).toBe('high_priority');
    expect(retry.messageId).toBe(`${id}:0:r1`);
    expect(retry.retry).toMatchObject({ attempt: 1, delayMs: 30_000, reason: 'UNAVAILABLE' });
    expect(retry.body).toMatchObject({ kind: 'push-batch', jobId: id, batchId: `${id}:0:r1`, attempt: 1, tokens: [busy] });

    // The retry batch comes back from the retry queue: only that token is sent, and it counts as sent.
    const before = s.sender.sentCount;
    expect(await s.handler(delivery(retry.body, { messageId: retry.messageId, attempt: 1 }))).toBe('ack');
    expect(s.sender.sentCount).toBe(before + 1);
    expect(s.sender.recorded.at(-1)!.token).toBe(busy!.token);
    expect(await counts(id)).toEqual({ sent_count: 2, failed_count: 0, retried_count: 1, tokens_removed_count: 1 });
    // ...and only once.
    expect(await s.handler(delivery(retry.body, { messageId: retry.messageId, attempt: 1 }))).toBe('ack');
    expect(s.sender.sentCount).toBe(before + 1);
  });

  it('sends a batch once when publishing its retry fails twice with the broker unavailable: the retry is completed from the recorded outcome', async () => {
    const s = setup();
    const { id } = await fannedOut(3, s);
    const batch = s.broker.published[0]!;
    const busy = batch.body.tokens[1]!;
    // FCM asks to retry this token each time it is sent (at most three times).
    s.sender.script(busy.token, { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 0 }, 3);
    // RabbitMQ restarting (or in a memory alarm) when the retry goes out, twice; confirmed the third time.
    let refusals = 0;
    const restarting: Broker = {
      ...s.broker,
      retry: (queue, body, options) =>
        ++refusals <= 2 ? Promise.reject(new BrokerUnavailableError('connection closed before the confirm')) : s.broker.retry(queue, body, options),
    };
    const outages: string[] = [];
    const handler = createDispatchHandler({
      db: async () => handle,
      broker: async () => restarting,
      pipeline: async () => ({ send: (_q, m) => s.sender.sendBatch(m) }),
      clock,
      onOutage: (detail) => outages.push(detail),
    });
    expect(await handler(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    // The fake FCM saw each token once: what it answered was not sent again.
    expect(s.sender.sentCount).toBe(3);
    expect(outages).toHaveLength(2);
    expect(s.sender.recorded.map((m) => m.token).sort()).toEqual(batch.body.tokens.map((t) => t.token).sort());
    expect(s.broker.retried.map((r) => [r.messageId, r.body.tokens])).toEqual([[`${id}:0:r1`, [busy]]]);
    expect(await counts(id)).toEqual({ sent_count: 2, failed_count: 0, retried_count: 1, tokens_removed_count: 0 });

    // A copy delivered again afterwards (a lost ack) neither sends nor publishes anything more.
    expect(await s.handler(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    expect(s.sender.sentCount).toBe(3);
    expect(s.broker.retried).toHaveLength(1);
  });

  it('backs off more at each retry when FCM names no Retry-After (1 s, 2 s, 4 s …)', async () => {
    const s = setup();
    const { id } = await fannedOut(1, s);
    const batch = s.broker.published[0]!;
    s.sender.script(batch.body.tokens[0]!.token, { kind: 'retry', code: 'UNAVAILABLE', retryAfterMs: 0 }, 3);
    expect(await s.handler(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    const second: DispatchBatchMessage = { ...batch.body, batchId: `${id}:0:r2`, attempt: 2 };
    expect(await s.handler(delivery(second, { attempt: 2 }))).toBe('ack');
    expect(s.broker.retried.map((r) => [r.retry!.attempt, r.retry!.delayMs])).toEqual([
      [1, 1_000],
      [3, 4_000],
    ]);
  });

  it('counts a token that is still retried after maxAttempts as failed and dead-letters it', async () => {
    const s = setup();
    const { id } = await fannedOut(1, s);
    const batch = s.broker.published[0]!;
    s.sender.script(batch.body.tokens[0]!.token, { kind: 'retry', code: 'INTERNAL', retryAfterMs: 0 });
    const last: DispatchBatchMessage = { ...batch.body, batchId: `${id}:0:r5`, attempt: 5 };
    expect(await s.handler(delivery(last, { attempt: 5 }))).toBe('ack');
    expect(s.broker.retried).toHaveLength(0);
    expect(s.broker.dead).toEqual([
      expect.objectContaining({ messageId: `${id}:0:r5:dead`, reason: 'max-attempts: INTERNAL', attempts: 6, body: expect.objectContaining({ tokens: batch.body.tokens }) }),
    ]);
    expect(await counts(id)).toMatchObject({ sent_count: 0, failed_count: 1, retried_count: 0 });
  });

  it('claims a batch: a copy delivered while a live holder sends it is parked in RabbitMQ (acked, back through the shortest retry tier), then dropped as done', async () => {
    const s = setup();
    const { id } = await fannedOut(2, s);
    const batch = s.broker.published[0]!;
    const holder = await liveNode('live-worker');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sends = 0;
    const slow = createDispatchHandler({
      db: async () => handle,
      broker: async () => s.broker,
      pipeline: async () => ({
        send: async (_q, messages) => {
          sends++;
          await gate;
          return s.sender.sendBatch(messages);
        },
      }),
      clock,
      holder,
    });
    const first = slow(delivery(batch.body, { messageId: batch.messageId }));
    await waitFor('first copy sending', () => sends === 1);
    // Redelivered while the first sends: it does not wait in the consumer's prefetch, it is parked.
    expect(await slow(delivery(batch.body, { messageId: batch.messageId, attempt: 0 }))).toBe('ack');
    expect(sends).toBe(1);
    expect(s.broker.retried).toHaveLength(1);
    expect(s.broker.retried[0]).toMatchObject({ queue: 'high_priority', messageId: batch.messageId, retry: { attempt: 0, delayMs: 0, reason: 'claimed-by-live-holder' } });
    release();
    expect(await first).toBe('ack');
    // The parked copy comes back: the batch is done.
    expect(await slow(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    expect(sends).toBe(1);
    expect(await counts(id)).toMatchObject({ sent_count: 2 });
    const { rows } = await pool.query(`SELECT expires_at = 'infinity' AS finished FROM batch_claims WHERE batch_id = $1`, [`${id}:0`]);
    expect(rows).toEqual([{ finished: true }]);
  });

  it('lets a copy take a batch over once the claim of a holder that died has expired', async () => {
    const s = setup();
    const { id } = await fannedOut(1, s);
    const batch = s.broker.published[0]!;
    // A worker that claimed the batch and died: its lease ran out a second ago.
    await pool.query(`INSERT INTO batch_claims (batch_id, job_id, claimed_by, expires_at) VALUES ($1, $2, 'dead-worker:1', now() - interval '1 second')`, [`${id}:0`, id]);
    expect(await s.handler(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    expect(s.sender.sentCount).toBe(1);
    expect(await counts(id)).toMatchObject({ sent_count: 1 });
  });

  it('takes over at once, lease still running, the claim of a holder the node registry has as gone; respects a live holder\'s', async () => {
    const s = setup();
    const { id } = await fannedOut(4, s); // batches of 3 and 1
    const [b0, b1] = s.broker.published;
    const dead = await liveNode('dead-worker');
    const alive = await liveNode('alive-worker');
    await pool.query(`UPDATE nodes SET alive_until = now() - interval '1 millisecond' WHERE incarnation = $1`, [dead]); // its heartbeat expired
    const lease = `now() + interval '1 hour'`;
    await pool.query(`INSERT INTO batch_claims (batch_id, job_id, claimed_by, holder, expires_at) VALUES ($1, $3, 'dead-worker:1', $4, ${lease}), ($2, $3, 'alive-worker:1', $5, ${lease})`, [
      `${id}:0`,
      `${id}:1`,
      id,
      dead,
      alive,
    ]);
    const handler = createDispatchHandler({ db: async () => handle, broker: async () => s.broker, pipeline: async () => ({ send: (_q, m) => s.sender.sendBatch(m) }), clock, holder: await liveNode('me'), onResult: (r) => s.results.push(r) });
    expect(await handler(delivery(b0!.body, { messageId: b0!.messageId }))).toBe('ack');
    expect(s.results.at(-1)).toMatchObject({ kind: 'batch', detail: expect.stringContaining('taken over from dead-worker:1') });
    expect(await handler(delivery(b1!.body, { messageId: b1!.messageId }))).toBe('ack');
    expect(s.results.at(-1)).toMatchObject({ kind: 'batch', detail: expect.stringContaining('parked: alive-worker:1') });
    expect(s.sender.sentCount).toBe(3); // b0's tokens only
    // A stopped node is gone too: its claim is taken over at once.
    await pool.query(`UPDATE nodes SET stopped_at = now() WHERE incarnation = $1`, [alive]);
    expect(await handler(delivery(b1!.body, { messageId: b1!.messageId }))).toBe('ack');
    expect(s.sender.sentCount).toBe(4);
    expect(await counts(id)).toMatchObject({ sent_count: 4 });
  });

  it('records answers as progress steps while a batch is in flight, and a takeover sends only the tokens without an answer', async () => {
    const s = setup();
    const ids = await users(3);
    const tokens = await sessions(ids);
    const id = await job(ids);
    expect(await s.handler(delivery({ kind: 'notification-job', jobId: id }))).toBe('ack');
    const batch = s.broker.published[0]!; // one batch of 3 (batchSize 3)
    expect(batch.body.tokens).toHaveLength(3);
    // A first holder: the pipeline answers two tokens (one sent, one UNREGISTERED) and then never finishes (the worker dies).
    const first = await liveNode('first');
    const stuck = new Promise<never>(() => undefined);
    let answered!: () => void;
    const stepsTold = new Promise<void>((r) => (answered = r));
    const dying = createDispatchHandler({
      db: async () => handle,
      broker: async () => s.broker,
      pipeline: async () => ({
        send: (_q, messages, onAnswers) => {
          onAnswers?.([[0, { kind: 'sent' }]]);
          onAnswers?.([[2, { kind: 'remove-token', code: 'UNREGISTERED' }]]);
          answered();
          expect(messages).toHaveLength(3);
          return stuck;
        },
      }),
      clock,
      claimOwner: 'first',
      holder: first,
    });
    void dying(delivery(batch.body, { messageId: batch.messageId }));
    await stepsTold;
    await waitFor('both answers recorded', async () => (await pool.query(`SELECT count(*)::int AS n FROM batch_progress WHERE batch_id = $1`, [`${id}:0`])).rows[0].n >= 1 && (await answersRecorded(`${id}:0`)) === 2);
    await pool.query(`UPDATE nodes SET alive_until = now() - interval '1 millisecond' WHERE incarnation = $1`, [first]);

    const sentNow: string[] = [];
    const second = createDispatchHandler({
      db: async () => handle,
      broker: async () => s.broker,
      pipeline: async () => ({
        send: (_q, messages) => {
          sentNow.push(...messages.map((m) => m.token));
          return s.sender.sendBatch(messages);
        },
      }),
      clock,
      claimOwner: 'second',
      holder: await liveNode('second'),
    });
    expect(await second(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    expect(sentNow).toEqual([batch.body.tokens[1]!.token]); // only the token without an answer
    // The answers recorded before the takeover count: one sent before, one sent now, one removed.
    expect(await counts(id)).toMatchObject({ sent_count: 2, tokens_removed_count: 1 });
    const removed = (await pool.query(`SELECT count(*)::int AS n FROM device_sessions WHERE push_token = $1`, [batch.body.tokens[2]!.token])).rows[0];
    expect(removed).toEqual({ n: 0 });
    expect(tokens).toContain(batch.body.tokens[2]!.token);
    // Recorded whole: the steps are gone.
    expect(await answersRecorded(`${id}:0`)).toBe(0);
  });

  it('holds a delivery while PostgreSQL is unavailable and handles it once it is back, without returning it to the queue', async () => {
    const s = setup();
    const { id } = await fannedOut(1, s);
    const batch = s.broker.published[0]!;
    let refusals = 0;
    const outages: string[] = [];
    const starting = createDispatchHandler({
      db: async () => {
        if (refusals < 2) {
          refusals++;
          throw new ServiceUnavailableError('postgres', 'PostgreSQL is unavailable', 1_000, 'DATABASE_UNAVAILABLE');
        }
        return handle;
      },
      broker: async () => s.broker,
      pipeline: async () => ({ send: (_q, m) => s.sender.sendBatch(m) }),
      clock,
      onOutage: (detail) => outages.push(detail),
    });
    expect(await starting(delivery(batch.body, { messageId: batch.messageId }))).toBe('ack');
    expect(outages).toHaveLength(2);
    expect(await counts(id)).toMatchObject({ sent_count: 1 });
  });

  it('holds a batch on its last delivery while every pool connection is taken past the acquire timeout, then sends it once without spending its delivery limit', async () => {
    const s = setup();
    const { id } = await fannedOut(2, s);
    const batch = s.broker.published[0]!;
    // A pool of one connection, held by someone else: each query waits 100 ms for it, then times out.
    // The holder's own connect gets a generous timeout (a loaded machine may take more than 100 ms to open one);
    // pg-pool reads the option on each connect, so the short wait applies to the handler's queries only.
    const saturated = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 10_000 });
    const holder = await saturated.connect();
    saturated.options.connectionTimeoutMillis = 100;
    const outages: string[] = [];
    try {
      const busy = createDispatchHandler({
        db: async () => poolHandle(saturated),
        broker: async () => s.broker,
        pipeline: async () => ({ send: (_q, m) => s.sender.sendBatch(m) }),
        clock,
        deliveryLimit: 1,
        onOutage: (detail) => {
          // Load ends once the delivery has been held: the connection comes back.
          if (outages.push(detail) === 1) holder.release();
        },
      });
      expect(await busy({ ...delivery(batch.body, { messageId: batch.messageId }), deliveryCount: 1, redelivered: true })).toBe('ack');
    } finally {
      if (outages.length === 0) holder.release();
      await saturated.end();
    }
    expect(outages[0]).toMatch(/DATABASE_BUSY|busy/i);
    expect(s.sender.recorded.map((m) => m.token).sort()).toEqual(batch.body.tokens.map((t) => t.token).sort());
    expect(await counts(id)).toMatchObject({ sent_count: 2, failed_count: 0 });
  });

  it('counts a batch failing on its last delivery as failed (the queue dead-letters it next), and settles the job', async () => {
    const s = setup();
    const { id } = await fannedOut(2, s);
    const batch = s.broker.published[0]!;
    const broken = createDispatchHandler({
      db: async () => handle,
      broker: async () => s.broker,
      pipeline: async () => ({ send: () => Promise.reject(new Error('worker thread exited')) }),
      clock,
      deliveryLimit: 3,
    });
    const at = (deliveryCount: number): Delivery => ({ ...delivery(batch.body, { messageId: batch.messageId }), deliveryCount, redelivered: deliveryCount > 0 });
    for (const n of [0, 1, 2]) expect(await broken(at(n))).toBe('nack-requeue');
    expect(await counts(id)).toMatchObject({ sent_count: 0, failed_count: 0 });
    expect(await broken(at(3))).toBe('nack-requeue');
    expect(await counts(id)).toMatchObject({ sent_count: 0, failed_count: 2 });
    const { rows } = await pool.query<{ state: string }>(`SELECT state FROM notification_jobs WHERE id = $1`, [id]);
    expect(rows[0]!.state).toBe('failed');
  });

  it('rejects garbage, acks a job or batch of a missing job, requeues when the database is away', async () => {
    const s = setup();
    expect(await s.handler(delivery(Buffer.from('not json {')))).toBe('reject');
    expect(await s.handler(delivery({ kind: 'something-else', jobId: 'x' }))).toBe('reject');
    expect(await s.handler(delivery({ kind: 'push-batch', jobId: 'x', batchNo: 0 }))).toBe('reject');
    expect(await s.handler(delivery(null))).toBe('reject');
    const missing = '00000000-0000-4000-8000-000000000000';
    expect(await s.handler(delivery({ kind: 'notification-job', jobId: missing }))).toBe('ack');
    expect(await s.handler(delivery({ kind: 'push-batch', jobId: missing, batchNo: 0, tokens: [{ sessionId: 's', token: 't' }] }))).toBe('ack');
    expect(s.sender.sentCount).toBe(0);

    const down = createDispatchHandler({ db: () => Promise.reject(new Error('postgres down')), broker: async () => s.broker, pipeline: async () => ({ send: (_q, m) => s.sender.sendBatch(m) }), clock });
    expect(await down(delivery({ kind: 'notification-job', jobId: missing }))).toBe('nack-requeue');
    expect(await down(delivery({ kind: 'push-batch', jobId: missing, batchNo: 0, tokens: [] }))).toBe('nack-requeue');
  });
});
