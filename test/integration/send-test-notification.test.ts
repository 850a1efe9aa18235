// `send-test-notification` as the on-call runs it: a child process from the sources, configured from the environment
// like a worker, sending to the fake FCM through the CONNECT proxy with the test CA as extra CA (the product's real
// proxy path). Devices, outcomes per device, exit codes, abbreviated tokens, and that it never removes a token.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFcmWorld, type FcmWorld } from '../support/dispatch.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';

const ROOT = new URL('../..', import.meta.url).pathname;

let db: TestDatabase;
let world: FcmWorld;
let sql: pg.Pool;
let baseEnv: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await startFcmWorld();
  sql = new pg.Pool({ connectionString: db.url, max: 2 });
  baseEnv = {
    APP_ENV: 'test',
    LOG_LEVEL: 'warn',
    AUTH_SECRET: 'test-secret-test-secret-test-secret!',
    DATABASE_URL: db.url,
    REDIS_URL: servicesEnv().TEST_REDIS_URL,
    ...world.env,
  };
}, 60_000);
afterAll(async () => {
  await sql?.end();
  await world?.close();
  await db?.drop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

function runCli(args: string[], env: Record<string, string | undefined> = baseEnv): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/send-test-notification.ts', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, output: stdout + stderr })));
}

/** A valid Senegalese mobile number (Orange 77): E.164 and the local way of writing it. */
function senegalPhone(): { e164: string; local: string } {
  const digits = String(randomBytes(4).readUInt32BE() % 10_000_000).padStart(7, '0');
  return { e164: `+22177${digits}`, local: `77 ${digits.slice(0, 3)} ${digits.slice(3, 5)} ${digits.slice(5)}` };
}

/** A token of FCM's usual length (~160 characters). */
const fcmToken = (tag: string): string => `${tag}-${randomBytes(78).toString('hex')}`;

async function customer(devices: Array<{ platform: 'android' | 'ios'; model: string; token: string | null; state?: string }>): Promise<{ id: string; phone: { e164: string; local: string }; sessions: string[] }> {
  const phone = senegalPhone();
  const id = randomUUID();
  await sql.query(`INSERT INTO users (id, phone, role, phone_proved_at, created_at) VALUES ($1, $2, 'customer', now(), now())`, [id, phone.e164]);
  const sessions: string[] = [];
  for (const d of devices) {
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO device_sessions (id, user_id, family, device_model, platform, push_token, refresh_hash, rotated_at, expires_at, created_at, last_seen_at, state)
       VALUES (gen_random_uuid(), $1, gen_random_uuid(), $2, $3, $4, uuid_send(gen_random_uuid()), now(), now() + interval '30 days', now(), now(), $5)
       RETURNING id`,
      [id, d.model, d.platform, d.token, d.state ?? 'active'],
    );
    sessions.push(rows[0]!.id);
  }
  return { id, phone, sessions };
}

const received = (token: string) => world.fake.received.filter((m) => m.token === token);

describe('send-test-notification', () => {
  it('by phone (without +221): every device is sent to, one line each with an abbreviated token, exit 0', async () => {
    const tokens = [fcmToken('pixel'), fcmToken('iphone')];
    const user = await customer([
      { platform: 'android', model: 'Pixel 7', token: tokens[0]! },
      { platform: 'ios', model: 'iPhone 13', token: tokens[1]! },
      { platform: 'android', model: 'Old phone', token: fcmToken('ended'), state: 'ended' },
      { platform: 'android', model: 'No token', token: null },
    ]);
    const run = await runCli(['--user', user.phone.local]);
    expect(run.code, run.output).toBe(0);
    for (const token of tokens) {
      expect(world.fake.deliveredTo(token)).toBe(1);
      expect(run.output).not.toContain(token);
      expect(run.stdout).toContain(`${token.slice(0, 8)}…${token.slice(-4)}`);
    }
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('  session '));
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain('Pixel 7');
    expect(lines.join('\n')).toContain('iPhone 13');
    expect(lines.join('\n')).toContain('ios');
    for (const line of lines) expect(line).toMatch(/sent projects\/.+\/messages\/\d+/);
    expect(lines.some((l) => l.includes(user.sessions[0]!.slice(0, 8)))).toBe(true);
    expect(run.stdout).toContain('2/2 sent');
    // The test push: type 'test', marked as a test, short TTL, no collapse key; high_priority by default.
    const message = received(tokens[0]!)[0]!;
    expect(message.data).toMatchObject({ type: 'test', test: 'true' });
    expect(message.message.android?.ttl).toBe('600s');
    expect(message.collapseKey).toBeUndefined();
    expect(message.message.apns?.headers?.['apns-collapse-id']).toBeUndefined();
    expect(message.androidPriority).toBe('high');
    expect(message.message.notification).toMatchObject({ title: expect.stringContaining('test') });
  });

  it('by UUID with --priority urgent: Android high and APNs 10; low_priority: normal and 5; title and body as given', async () => {
    const token = fcmToken('urgent');
    const user = await customer([{ platform: 'android', model: 'Galaxy A14', token }]);
    const urgent = await runCli(['--user', user.id.toUpperCase(), '--priority', 'urgent', '--title', 'Essai', '--body', 'Corps du test']);
    expect(urgent.code, urgent.output).toBe(0);
    const [first] = received(token);
    expect(first).toMatchObject({ androidPriority: 'high', apnsPriority: '10' });
    expect(first!.message.notification).toEqual({ title: 'Essai', body: 'Corps du test' });

    const low = await runCli(['--user', user.id, '--priority=low_priority']);
    expect(low.code, low.output).toBe(0);
    expect(received(token)[1]).toMatchObject({ androidPriority: 'normal', apnsPriority: '5' });
  });

  it('UNREGISTERED: exit 1, the line says remove-token, and the token is still in the database', async () => {
    const dead = fcmToken('dead');
    const alive = fcmToken('alive');
    const user = await customer([
      { platform: 'android', model: 'Dead phone', token: dead },
      { platform: 'android', model: 'Live phone', token: alive },
    ]);
    world.fake.setOutcomes({ [dead]: 'UNREGISTERED' });
    try {
      const run = await runCli(['--user', user.phone.e164]);
      expect(run.code, run.output).toBe(1);
      const deadLine = run.stdout.split('\n').find((l) => l.includes('Dead phone'));
      expect(deadLine).toContain('remove-token UNREGISTERED');
      expect(deadLine).toContain('the worker would remove this token');
      expect(run.stdout.split('\n').find((l) => l.includes('Live phone'))).toMatch(/sent projects\//);
      expect(run.stdout).toContain('1/2 sent, 1 remove-token');
      expect(run.output).not.toContain(dead);
      const { rows } = await sql.query<{ push_token: string | null }>(`SELECT push_token FROM device_sessions WHERE id = $1`, [user.sessions[0]]);
      expect(rows[0]!.push_token).toBe(dead);
    } finally {
      world.fake.setOutcomes(undefined);
    }
  });

  it('a retry outcome shows its code and Retry-After', async () => {
    const token = fcmToken('busy');
    const user = await customer([{ platform: 'android', model: 'Busy', token }]);
    world.fake.setOutcomes({ [token]: { error: 'UNAVAILABLE', retryAfterSeconds: 30 } });
    try {
      const run = await runCli(['--user', user.id]);
      expect(run.code, run.output).toBe(1);
      expect(run.stdout).toMatch(/retry UNAVAILABLE \(Retry-After 30 s\)/);
    } finally {
      world.fake.setOutcomes(undefined);
    }
  });

  it('unknown user, deleted user, no device with a push token: exit 3', async () => {
    const unknown = await runCli(['--user', randomUUID()]);
    expect(unknown.code, unknown.output).toBe(3);
    expect(unknown.stderr).toContain('no user with id');
    const unknownPhone = await runCli(['--user', senegalPhone().local]);
    expect(unknownPhone.code, unknownPhone.output).toBe(3);

    const deleted = await customer([{ platform: 'android', model: 'X', token: fcmToken('deleted') }]);
    await sql.query(`UPDATE users SET deleted_at = now(), phone = NULL WHERE id = $1`, [deleted.id]);
    const gone = await runCli(['--user', deleted.id]);
    expect(gone.code, gone.output).toBe(3);
    expect(gone.stderr).toContain('deleted');

    const bare = await customer([{ platform: 'android', model: 'Ended', token: fcmToken('x'), state: 'revoked' }]);
    const none = await runCli(['--user', bare.phone.e164]);
    expect(none.code, none.output).toBe(3);
    expect(none.stderr).toContain('no active device with a push token');
  });

  // Nine CLI processes, each loading the project through tsx (1-3 s apiece on a busy machine): more than the default 30 s.
  it('refuses the FCM sandbox, the embedded database, bad configuration and bad flags: exit 2', { timeout: 90_000 }, async () => {
    const user = await customer([{ platform: 'android', model: 'X', token: fcmToken('refused') }]);
    const withoutFcm = Object.fromEntries(Object.entries(baseEnv).filter(([k]) => !k.startsWith('FCM_')));
    const sandbox = await runCli(['--user', user.id], withoutFcm);
    expect(sandbox.code, sandbox.output).toBe(2);
    expect(sandbox.stderr).toContain('FCM_PROJECT_ID is not set');
    expect(sandbox.stderr).toContain('sandbox');

    const embedded = await runCli(['--user', user.id], { ...baseEnv, DATABASE_URL: undefined });
    expect(embedded.code, embedded.output).toBe(2);
    expect(embedded.stderr).toContain('cannot be reached from another process');

    const badConfig = await runCli(['--user', user.id], { ...baseEnv, FCM_TRANSPORT: 'carrier-pigeon', PG_POOL_MAX: 'many' });
    expect(badConfig.code, badConfig.output).toBe(2);
    expect(badConfig.stderr).toMatch(/^FCM_TRANSPORT: /m);
    expect(badConfig.stderr).toMatch(/^PG_POOL_MAX: /m);

    for (const args of [['--user', user.id, '--colour', 'red'], ['--user', user.id, '--priority', 'asap'], [], ['--user', 'not-a-user']]) {
      const bad = await runCli(args);
      expect(bad.code, `${args.join(' ')}: ${bad.output}`).toBe(2);
    }
    const flag = await runCli(['--user', user.id, '--colour', 'red']);
    expect(flag.stderr).toContain('usage:');
    expect(flag.stdout).toBe('');
    expect(world.fake.attemptsFor(user.id)).toBe(0);

    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage:');
  });

  it('never prints the database password', async () => {
    const password = 'pw-' + randomBytes(8).toString('hex');
    const url = new URL(db.url);
    url.username = 'nobody';
    url.password = password;
    url.port = '1'; // nothing listens there: the connection fails and the error is printed
    const run = await runCli(['--user', randomUUID()], { ...baseEnv, DATABASE_URL: url.toString() });
    expect(run.code, run.output).toBe(1);
    expect(run.stderr).toContain('database failed');
    expect(run.output).not.toContain(password);
  });

  it('npm run send-test-notification -- --help builds and runs end to end', () => {
    const run = spawnSync('npm', ['run', '--silent', 'send-test-notification', '--', '--help'], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('usage: npm run send-test-notification');
  }, 150_000);
});
