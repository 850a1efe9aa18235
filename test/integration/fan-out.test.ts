// The fan-out against the real PostgreSQL (a database of this file): inbox entries for targeted users (also those
// with no device), one broadcast row for an agency, which sessions' tokens are batched, deterministic batch ids,
// a crash mid fan-out resumed from the checkpoint (union covers every token, only the in-flight batch repeated),
// a finished job publishing nothing, and bounded memory. The broker is a recording stub behind the Broker interface
// (publish resolves = confirmed), so the test can make it fail after N confirms.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker, PublishOptions } from '../../src/adapters/broker/broker.js';
import { BrokerUnavailableError } from '../../src/adapters/broker/broker.js';
import type { PriorityQueue } from '../../src/domain/priority.js';
import { SystemClock } from '../../src/clock.js';
import type { PgHandle } from '../../src/adapters/postgres/postgres-messages.js';
import { poolHandle } from '../../src/adapters/postgres/pg-handle.js';
import { fanOut, type FanOutPageInfo, type PushBatchMessage } from '../../src/dispatch/fan-out.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';

const clock = new SystemClock();
let db: TestDatabase;
let pool: pg.Pool;
let handle: PgHandle;
let adminId: string;

interface Published {
  queue: PriorityQueue;
  messageId: string;
  body: PushBatchMessage;
}

/** Records confirmed publishes; with `failAfter`, publishes that many then rejects every later one (a crash). */
function recordingBroker(failAfter = Infinity): Broker & { published: Published[]; attempts: number } {
  const published: Published[] = [];
  const stub = {
    kind: 'memory' as const,
    isUp: true,
    published,
    attempts: 0,
    publish(queue: PriorityQueue, body: Buffer, options: PublishOptions): Promise<void> {
      stub.attempts++;
      if (published.length >= failAfter) return Promise.reject(new BrokerUnavailableError('crash: connection lost before the confirm'));
      published.push({ queue, messageId: options.messageId, body: JSON.parse(body.toString()) as PushBatchMessage });
      return Promise.resolve();
    },
  };
  return stub as unknown as Broker & { published: Published[]; attempts: number };
}

const deps = (broker: Broker, h: PgHandle = handle) => ({ db: h, broker, clock });

async function users(count: number, agency: string | null, createdAt = '2026-01-01T00:00:00Z'): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO users (id, phone, role, agency_code, created_at)
     SELECT gen_random_uuid(), '+2217' || lpad((nextval('test_phone_seq'))::text, 8, '0'), 'customer', $2, $3 FROM generate_series(1, $1)
     RETURNING id`,
    [count, agency, createdAt],
  );
  return rows.map((r) => r.id);
}

/** One session per user (state, expires_at given); returns the push tokens. */
async function sessions(userIds: string[], state: 'active' | 'ended' | 'revoked' = 'active', expiresIn = '30 days'): Promise<string[]> {
  const { rows } = await pool.query<{ push_token: string }>(
    `INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
     SELECT gen_random_uuid(), u, gen_random_uuid(), 'Pixel', 'android', 'tok-' || gen_random_uuid(), uuid_send(gen_random_uuid()), now(), now() + $3::interval, now(), now(), $2
       FROM unnest($1::uuid[]) AS u
     RETURNING push_token`,
    [userIds, state, expiresIn],
  );
  return rows.map((r) => r.push_token);
}

async function job(target: object, queue: PriorityQueue = 'low_priority'): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, created_at, updated_at)
     VALUES (gen_random_uuid(), $1, 'admin', $2, 'planned_works', $3, 'Travaux', 'Coupure', '\\x00', now(), now()) RETURNING id`,
    [adminId, JSON.stringify(target), queue],
  );
  return rows[0]!.id;
}

const jobRow = async (id: string) =>
  (await pool.query<{ state: string; target_count: number; inbox_count: number }>(`SELECT state, target_count, inbox_count FROM notification_jobs WHERE id = $1`, [id])).rows[0]!;
const checkpoint = async (id: string) =>
  (await pool.query<{ done_at: Date | null; next_batch_no: number; token_count: number; pending_tokens: unknown[] }>(`SELECT * FROM fanout_checkpoints WHERE job_id = $1`, [id])).rows[0]!;
const inboxUsers = async (id: string) => (await pool.query<{ user_id: string }>(`SELECT user_id FROM inbox_entries WHERE job_id = $1`, [id])).rows.map((r) => r.user_id).sort();
const tokensOf = (published: Published[]) => published.flatMap((p) => p.body.tokens.map((t) => t.token));

/** Every batch: deterministic id `${job}:${batchNo}`, body of its job, at most batchSize tokens. */
function expectWellFormed(published: Published[], jobId: string, batchSize: number, queue: PriorityQueue = 'low_priority'): void {
  for (const p of published) {
    expect(p.queue).toBe(queue);
    expect(p.messageId).toBe(`${jobId}:${p.body.batchNo}`);
    expect(p.body.kind).toBe('push-batch');
    expect(p.body.jobId).toBe(jobId);
    expect(p.body.tokens.length).toBeGreaterThan(0);
    expect(p.body.tokens.length).toBeLessThanOrEqual(batchSize);
    for (const t of p.body.tokens) expect(typeof t.sessionId).toBe('string');
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  handle = poolHandle(pool);
  await pool.query(`CREATE SEQUENCE test_phone_seq`);
  await pool.query(`INSERT INTO agencies (code, name) VALUES ('DKR', 'Dakar'), ('THS', 'Thiès') ON CONFLICT DO NOTHING`);
  adminId = (await pool.query<{ id: string }>(`INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), 'admin.fanout', 'admin', now()) RETURNING id`)).rows[0]!.id;
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('fan-out of a users target', () => {
  it('writes an inbox entry for every live user (one without a device too) and batches every token exactly once', async () => {
    const withDevice = await users(12, 'DKR');
    const tokens = await sessions(withDevice);
    const secondDevice = await sessions(withDevice.slice(0, 3)); // three users with two phones
    const [noDevice] = await users(1, 'DKR');
    const [deleted] = await users(1, 'DKR');
    await sessions([deleted!]);
    await pool.query(`UPDATE users SET deleted_at = now(), phone = NULL, ldap_login = 'gone-' || id WHERE id = $1`, [deleted]);
    const targeted = [...withDevice, noDevice!];
    const id = await job({ kind: 'users', userIds: [...targeted, deleted] }, 'high_priority');

    const broker = recordingBroker();
    const result = await fanOut(deps(broker), { jobId: id }, { batchSize: 4, pageSize: 5 });

    const all = [...tokens, ...secondDevice];
    expect(result.done).toBe(true);
    expect(broker.published).toHaveLength(Math.ceil(all.length / 4));
    expectWellFormed(broker.published, id, 4, 'high_priority');
    expect(broker.published.map((p) => p.body.batchNo)).toEqual([...Array(broker.published.length).keys()]);
    expect(tokensOf(broker.published).sort()).toEqual(all.sort());
    expect(await inboxUsers(id)).toEqual(targeted.sort());
    expect(await jobRow(id)).toMatchObject({ state: 'sending', target_count: targeted.length, inbox_count: targeted.length });
    expect(await checkpoint(id)).toMatchObject({ next_batch_no: broker.published.length, token_count: all.length, pending_tokens: [] });
    expect(result.totals).toEqual({ batches: broker.published.length, tokens: all.length, targets: targeted.length, inboxEntries: targeted.length });
  });

  it("excludes ended and revoked sessions' tokens and includes expired (still active) sessions' tokens", async () => {
    const [u1, u2, u3, u4] = await users(4, 'THS');
    const live = await sessions([u1!]);
    const expired = await sessions([u2!], 'active', '-1 day');
    const ended = await sessions([u3!], 'ended');
    const revoked = await sessions([u4!], 'revoked');
    const id = await job({ kind: 'users', userIds: [u1, u2, u3, u4] });

    const broker = recordingBroker();
    await fanOut(deps(broker), { jobId: id }, { batchSize: 500 });

    const sent = tokensOf(broker.published);
    expect(sent.sort()).toEqual([...live, ...expired].sort());
    for (const t of [...ended, ...revoked]) expect(sent).not.toContain(t);
    expect(await inboxUsers(id)).toEqual([u1, u2, u3, u4].sort()); // the inbox does not depend on devices
  });
});

describe('fan-out of an agency broadcast', () => {
  it("writes one broadcast row, no inbox entries, and batches only that agency's tokens", async () => {
    const agencyUsers = await users(9, 'DKR');
    // Only DKR users of THIS test's target count: earlier tests created DKR users too, so collect them all.
    const other = await users(5, 'THS');
    await sessions(other);
    await sessions(agencyUsers);
    const { rows: expectedRows } = await pool.query<{ push_token: string }>(
      `SELECT s.push_token FROM device_sessions s JOIN users u ON u.id = s.user_id
        WHERE u.agency_code = 'DKR' AND u.deleted_at IS NULL AND s.state = 'active' AND s.push_token IS NOT NULL`,
    );
    const { rows: dkrUsers } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE agency_code = 'DKR' AND deleted_at IS NULL`);
    // An account created after the job does not see the broadcast, so it gets no push either.
    const id = await job({ kind: 'agency', agency: 'DKR' });
    const later = await users(2, 'DKR', '2099-01-01T00:00:00Z');
    await sessions(later);

    const broker = recordingBroker();
    const result = await fanOut(deps(broker), { jobId: id }, { batchSize: 7, pageSize: 10 });

    expect(result.done).toBe(true);
    const expected = expectedRows.map((r) => r.push_token).sort();
    expect(tokensOf(broker.published).sort()).toEqual(expected);
    expect(broker.published).toHaveLength(Math.ceil(expected.length / 7));
    expectWellFormed(broker.published, id, 7);
    const { rows: broadcasts } = await pool.query(`SELECT scope, agency_code FROM broadcasts WHERE job_id = $1`, [id]);
    expect(broadcasts).toEqual([{ scope: 'agency', agency_code: 'DKR' }]);
    expect(await inboxUsers(id)).toEqual([]);
    expect(await jobRow(id)).toMatchObject({ state: 'sending', target_count: dkrUsers[0]!.n, inbox_count: dkrUsers[0]!.n });
  });
});

describe('crash mid fan-out', () => {
  it('resumes from the checkpoint: every token covered, only the in-flight batch repeated, checkpoint done', async () => {
    const agencyCode = 'CRASH';
    await pool.query(`INSERT INTO agencies (code, name) VALUES ($1, 'Crash') ON CONFLICT DO NOTHING`, [agencyCode]);
    const crowd = await users(230, agencyCode);
    const all = await sessions(crowd);
    const id = await job({ kind: 'agency', agency: agencyCode });
    const options = { batchSize: 20, pageSize: 37 };

    // First run: 5 batches confirmed, the 6th fails (a worker dying between publish and confirm looks the same).
    const first = recordingBroker(5);
    await expect(fanOut(deps(first), { jobId: id }, options)).rejects.toThrow(/crash/);
    expect(first.published).toHaveLength(5);
    expect((await checkpoint(id)).done_at).toBeNull();
    expect((await jobRow(id)).state).toBe('fanning_out');

    // A second run dies too, after 3 more confirms.
    const second = recordingBroker(3);
    await expect(fanOut(deps(second), { jobId: id }, options)).rejects.toThrow(/crash/);

    const third = recordingBroker();
    const result = await fanOut(deps(third), { jobId: id }, options);
    expect(result.done).toBe(true);

    const union = [...first.published, ...second.published, ...third.published];
    expectWellFormed(union, id, 20);
    expect(new Set(tokensOf(union))).toEqual(new Set(all));
    const ids = union.map((p) => p.messageId);
    const repeated = ids.filter((m, i) => ids.indexOf(m) !== i);
    expect(repeated.length).toBeLessThanOrEqual(2); // at most the one in flight at each of the two crashes
    // Same id ⇒ same tokens: a consumer dropping the copy by message id loses nothing.
    for (const m of new Set(repeated)) {
      const copies = union.filter((p) => p.messageId === m).map((p) => JSON.stringify(p.body));
      expect(new Set(copies).size).toBe(1);
    }
    // Here the crashes came before a confirm (the batch was never stored), so nothing at all is repeated.
    expect(repeated).toEqual([]);
    expect(tokensOf(union)).toHaveLength(all.length);
    expect(new Set(ids).size).toBe(Math.ceil(all.length / 20));
    const cp = await checkpoint(id);
    expect(cp.done_at).not.toBeNull();
    expect(cp.token_count).toBe(all.length);
    expect((await jobRow(id)).state).toBe('sending');

    // A second fan-out of the finished job (a redelivered job message) publishes nothing.
    const again = recordingBroker();
    const replay = await fanOut(deps(again), { jobId: id }, options);
    expect(replay).toMatchObject({ done: true, batchesPublished: 0 });
    expect(again.attempts).toBe(0);
  });

  it('a crash after the confirm but before the checkpoint moved re-publishes exactly that batch, same id and tokens', async () => {
    const agencyCode = 'CRASH2';
    await pool.query(`INSERT INTO agencies (code, name) VALUES ($1, 'Crash 2') ON CONFLICT DO NOTHING`, [agencyCode]);
    const crowd = await users(60, agencyCode);
    const all = await sessions(crowd);
    const id = await job({ kind: 'agency', agency: agencyCode });
    const options = { batchSize: 10, pageSize: 25 };

    // The database dies right after the broker confirmed batch 2: the checkpoint update after it never runs.
    let confirmed = 0;
    const broker = recordingBroker();
    const dyingDb: PgHandle = {
      query: (text, values) => {
        if (/UPDATE fanout_checkpoints\s+SET next_batch_no/.test(text) && confirmed === 2) return Promise.reject(new Error('crash: database gone'));
        return handle.query(text, values);
      },
      transaction: (fn) => handle.transaction(fn),
    };
    const counting: Broker = {
      ...broker,
      publish: async (q, b, o) => {
        await broker.publish(q, b, o);
        confirmed = broker.published.length - 1; // batchNo of what was just confirmed
      },
    } as Broker;
    await expect(fanOut(deps(counting, dyingDb), { jobId: id }, options)).rejects.toThrow(/database gone/);
    expect(broker.published.map((p) => p.body.batchNo)).toEqual([0, 1, 2]);

    const resumed = recordingBroker();
    await fanOut(deps(resumed), { jobId: id }, options);
    expect(resumed.published[0]!.messageId).toBe(`${id}:2`);
    expect(resumed.published[0]!.body).toEqual(broker.published[2]!.body);
    const union = [...broker.published, ...resumed.published];
    expect(new Set(tokensOf(union))).toEqual(new Set(all));
    expect(union.map((p) => p.messageId).filter((m) => m === `${id}:2`)).toHaveLength(2);
    expect(new Set(union.map((p) => p.messageId)).size).toBe(union.length - 1);
  });
});

describe('bounded memory', () => {
  it('with pageSize 50 and 1,000 users it holds at most one page of users and one page of tokens plus a partial batch', async () => {
    const agencyCode = 'BIG';
    await pool.query(`INSERT INTO agencies (code, name) VALUES ($1, 'Big') ON CONFLICT DO NOTHING`, [agencyCode]);
    const crowd = await users(1_000, agencyCode);
    const all = await sessions(crowd); // one device each: a page holds at most 50 tokens
    const id = await job({ kind: 'agency', agency: agencyCode });
    const batchSize = 30;

    // Every row any query returns to the fan-out is counted: nothing bigger than a page can reach memory.
    let maxRows = 0;
    const queries: string[] = [];
    const watch = (r: { rows: unknown[] }) => {
      maxRows = Math.max(maxRows, r.rows.length);
      return r;
    };
    const watched: PgHandle = {
      query: async (text, values) => {
        queries.push(text);
        return watch(await handle.query(text, values)) as never;
      },
      transaction: (fn) =>
        handle.transaction((client) =>
          fn(
            new Proxy(client, {
              get: (target, prop, receiver) =>
                prop === 'query' ? async (text: string, values?: unknown[]) => watch(await target.query(text, values)) : Reflect.get(target, prop, receiver),
            }),
          ),
        ),
    };
    const pages: FanOutPageInfo[] = [];
    const broker = recordingBroker();
    await fanOut(deps(broker, watched), { jobId: id }, { batchSize, pageSize: 50, onPage: (p) => pages.push(p) });

    expect(pages).toHaveLength(20);
    for (const p of pages) {
      expect(p.users).toBeLessThanOrEqual(50);
      expect(p.tokens).toBeLessThanOrEqual(50 + batchSize - 1);
    }
    expect(maxRows).toBeLessThanOrEqual(50);
    // The checkpoint row read back (pending tokens) is bounded the same way.
    const { rows } = await pool.query<{ n: number }>(`SELECT jsonb_array_length(pending_tokens) AS n FROM fanout_checkpoints WHERE job_id = $1`, [id]);
    expect(rows[0]!.n).toBe(0);
    expect(queries.some((q) => /FROM users WHERE .* ORDER BY id LIMIT \$4/s.test(q))).toBe(true);
    expect(new Set(tokensOf(broker.published))).toEqual(new Set(all));
    expect(broker.published).toHaveLength(Math.ceil(1_000 / batchSize));
  });
});
