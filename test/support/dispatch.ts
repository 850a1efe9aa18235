// What the dispatch tests share: the FCM world (fake FCM + CONNECT proxy + a service-account file, reached through
// the product's real proxy path with the test CA as its extra CA), seeding of customers with devices, and jobs.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startConnectProxy, type ConnectProxy } from './fcm/connect-proxy.js';
import { startFakeFcm, type FakeFcm, type FakeFcmOptions } from './fcm/fake-fcm-server.js';
import { serviceAccountFile } from './fcm/service-account.js';
import { mintToken } from './tokens.js';
import { waitFor } from './wait.js';

export const FCM_TEST_PROJECT = 'samaconso-test';

export interface FcmWorld {
  readonly fake: FakeFcm;
  readonly proxy: ConnectProxy;
  /** FCM_* variables that point a node at the fake through the proxy (the default transport, http2-session). */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export { serviceAccountFile };

export async function startFcmWorld(options: FakeFcmOptions = {}): Promise<FcmWorld> {
  const fake = await startFakeFcm(options);
  const proxy = await startConnectProxy({ target: { host: fake.host, port: fake.port } });
  // One project per world: the send-rate bucket (and a 429's pause) in the shared Redis is per project.
  const projectId = `${FCM_TEST_PROJECT}-${randomBytes(4).toString('hex')}`;
  return {
    fake,
    proxy,
    env: {
      FCM_PROJECT_ID: projectId,
      FCM_CREDENTIALS_FILE: serviceAccountFile(projectId),
      FCM_PROXY_URL: proxy.url,
      FCM_EXTRA_CA_FILE: fake.caFile,
    },
    close: async () => {
      await proxy.close();
      await fake.close();
    },
  };
}

export interface SeedOptions {
  /** Devices (push tokens) per customer; 0 = none (the inbox still gets the entry). */
  readonly devices?: number;
  readonly agency?: string;
  /** Token prefix, to tell the seeds of one test apart. */
  readonly prefix?: string;
}

/** Inserts `count` proved customers with their devices; returns the user ids and every push token. */
export async function seedCustomers(sql: pg.Pool | pg.Client, count: number, options: SeedOptions = {}): Promise<{ users: string[]; tokens: string[] }> {
  const agency = options.agency ?? 'DKR';
  await sql.query(`INSERT INTO agencies (code, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [agency]);
  // Phone numbers from a sequence: random ones collide (birthday bound) once a test seeds tens of thousands.
  await sql.query(`CREATE SEQUENCE IF NOT EXISTS seed_phone_seq`);
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO users (id, phone, role, agency_code, phone_proved_at, created_at)
     SELECT gen_random_uuid(), '+2217' || lpad(nextval('seed_phone_seq')::text, 8, '0'), 'customer', $2, now() - interval '1 day', now() - interval '1 day'
       FROM generate_series(1, $1)
     RETURNING id`,
    [count, agency],
  );
  const users = rows.map((r) => r.id);
  const devices = options.devices ?? 1;
  if (devices === 0 || users.length === 0) return { users, tokens: [] };
  const prefix = options.prefix ?? 'tok';
  const { rows: tokens } = await sql.query<{ push_token: string }>(
    `INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
     SELECT gen_random_uuid(), u, gen_random_uuid(), 'Phone', 'android', $2 || '-' || gen_random_uuid(), uuid_send(gen_random_uuid()), now(), now() + interval '30 days', now(), now(), 'active'
       FROM unnest($1::uuid[]) AS u, generate_series(1, $3)
     RETURNING push_token`,
    [users, prefix, devices],
  );
  return { users, tokens: tokens.map((t) => t.push_token) };
}

/** An admin user and its access token. */
export async function adminToken(sql: pg.Pool | pg.Client): Promise<string> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO users (id, ldap_login, role, agency_code, created_at) VALUES (gen_random_uuid(), 'admin-' || gen_random_uuid(), 'admin', NULL, now()) RETURNING id`,
  );
  return mintToken({ role: 'admin', sub: rows[0]!.id });
}

/** POST /v1/notifications; returns the job id (expects 202). */
export async function postJob(apiUrl: string, token: string, body: unknown): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { jobId?: string };
  if (res.status !== 202 || !json.jobId) throw new Error(`POST /v1/notifications answered ${res.status}: ${JSON.stringify(json)}`);
  return json.jobId;
}

export interface JobRow {
  state: string;
  target_count: number;
  inbox_count: number;
  sent_count: number;
  retried_count: number;
  failed_count: number;
  tokens_removed_count: number;
}

export async function jobRow(sql: pg.Pool | pg.Client, id: string): Promise<JobRow> {
  const { rows } = await sql.query<JobRow>(`SELECT * FROM notification_jobs WHERE id = $1`, [id]);
  if (!rows[0]) throw new Error(`no job ${id}`);
  return rows[0];
}

/** Waits until every job is done or failed. */
export async function waitJobsSettled(sql: pg.Pool | pg.Client, ids: readonly string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `jobs ${ids.length} settled`,
    async () => {
      const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_jobs WHERE id = ANY($1::uuid[]) AND state IN ('done', 'failed')`, [ids]);
      return rows[0]!.n === ids.length;
    },
    timeoutMs,
  );
}
