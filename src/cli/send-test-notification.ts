// `npm run send-test-notification -- --user <id|phone> [--priority P] [--title T] [--body B]`: the on-call's
// diagnostic of the FCM path. Sends one test push to every active device (with a push token) of one user, directly
// through createFcmSender with the node's FCM settings (transport, proxy, extra CA, service account), not through
// RabbitMQ, and prints FCM's answer per device. It never changes the database: a token FCM calls dead is reported
// ("the worker would remove this token"), not removed.
//
// Exit codes: 0 every device sent; 1 some device not sent (or the run failed: database, sender);
// 2 usage or configuration (no DATABASE_URL, FCM in sandbox mode); 3 no such user, or no device to send to.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { toE164, maskPhone } from '../domain/phone.js';
import { PRIORITY_QUEUES, type PriorityQueue } from '../domain/priority.js';
import { ConfigError, loadConfig, loadDotEnv, type Config } from '../config.js';
import { buildFcmMessage, fcmPriority, type FcmMessage, type FcmNotification } from '../adapters/fcm/fcm-message.js';
import type { FcmOutcome } from '../adapters/fcm/fcm-outcome.js';
import { AppError, errorMessage } from '../errors/app-error.js';

const NAME = 'send-test-notification';
const EXIT_OK = 0;
const EXIT_NOT_ALL_SENT = 1;
const EXIT_USAGE = 2;
const EXIT_NO_TARGET = 3;

/** The test push's type: not a row of notification_types; short-lived (a stale test push is noise), no collapse key. */
const TEST_TYPE = { code: 'test', ttlSeconds: 600, collapseKey: null } as const;
const DEFAULT_PRIORITY: PriorityQueue = 'high_priority';
const DEFAULT_TITLE = 'SamaConso : notification de test';
const DEFAULT_BODY = "Ceci est une notification de test envoyée par l'équipe SamaConso. Vous pouvez l'ignorer.";
/** firebase-admin accepts at most 500 messages per batch (FCM_MAX_BATCH); a user never has that many devices. */
const MAX_DEVICES = 500;

const USAGE = `usage: npm run ${NAME} -- --user <id|phone> [--priority urgent|high_priority|normal|low_priority] [--title T] [--body B]

Sends a test push to every active device (with a push token) of one user, straight through FCM with this
node's settings (FCM_PROJECT_ID, FCM_CREDENTIALS_FILE, FCM_TRANSPORT, FCM_PROXY_URL, FCM_EXTRA_CA_FILE), and
prints FCM's answer per device. Nothing is changed in the database: dead tokens are reported, not removed.

  --user <id|phone>  the user's UUID, or phone number (77 123 45 67, +221771234567, …)
  --priority <queue> delivery priority as the queue gives it (default ${DEFAULT_PRIORITY}):
                     urgent, high_priority → Android high / APNs 10; normal, low_priority → normal / 5
  --title <text>     notification title (default: a French test title)
  --body <text>      notification body (default: a French test text)
  --help             this text

Reads the environment (and .env) like the node; DATABASE_URL is required.
Exit codes: 0 all sent; 1 some device not sent; 2 usage or configuration; 3 unknown user or no device.`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Args {
  readonly user: string;
  readonly priority: PriorityQueue;
  readonly title: string;
  readonly body: string;
}

interface UserRow {
  id: string;
  phone: string | null;
  role: string;
  deleted_at: Date | null;
}

interface DeviceRow {
  id: string;
  platform: string;
  device_model: string;
  last_seen_at: Date;
  push_token: string;
}

/** Usage problems are thrown as this and printed with the usage text on stderr. */
class UsageError extends AppError {
  readonly code = 'CLI_USAGE';
}

function parseCli(argv: string[]): Args | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const user = values.user?.trim();
  if (!user) throw new UsageError('--user is required');
  const priority = values.priority ?? DEFAULT_PRIORITY;
  if (!(PRIORITY_QUEUES as readonly string[]).includes(priority)) throw new UsageError(`--priority must be one of ${PRIORITY_QUEUES.join(', ')}`);
  const title = values.title ?? DEFAULT_TITLE;
  const body = values.body ?? DEFAULT_BODY;
  if (title.trim() === '') throw new UsageError('--title must not be empty');
  if (body.trim() === '') throw new UsageError('--body must not be empty');
  return { user, priority: priority as PriorityQueue, title, body };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      user: { type: 'string' },
      priority: { type: 'string' },
      title: { type: 'string' },
      body: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** A URL's password, so that any message that echoes it can be scrubbed before it is printed. */
function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

function scrub(text: string, secrets: ReadonlyArray<string | undefined>): string {
  return secrets.reduce<string>((out, secret) => (secret ? out.split(secret).join('***') : out), text);
}

/** First 8 … last 4 characters (fewer for a short token): enough to match a token, never the whole of it. */
function abbreviateToken(token: string): string {
  const head = Math.min(8, Math.floor(token.length / 3));
  const tail = Math.min(4, Math.floor(token.length / 4));
  return `${token.slice(0, head)}…${tail > 0 ? token.slice(-tail) : ''}`;
}

function describeOutcome(outcome: FcmOutcome | undefined): string {
  if (!outcome) return 'fail: no outcome returned for this message';
  switch (outcome.kind) {
    case 'sent':
      return `sent ${outcome.messageId ?? '(no message id)'}`;
    case 'remove-token':
      return `remove-token ${outcome.code}${outcome.detail ? ` (${outcome.detail})` : ''}; not removed here: the worker would remove this token`;
    case 'retry': {
      const after = outcome.retryAfterMs > 0 ? `Retry-After ${Math.ceil(outcome.retryAfterMs / 1000)} s` : 'no Retry-After';
      return `retry ${outcome.code} (${after})${outcome.detail ? `: ${outcome.detail}` : ''}`;
    }
    case 'fail':
      return `fail ${outcome.code}${outcome.detail ? `: ${outcome.detail}` : ''}`;
  }
}

function loadSettings(): { config: Config } | { exitCode: number } {
  loadDotEnv();
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const secrets = [passwordOf(process.env.DATABASE_URL), passwordOf(process.env.DATABASE_MIGRATION_URL), passwordOf(process.env.FCM_PROXY_URL)];
    console.error(`${NAME}: invalid configuration:`);
    for (const problem of error.problems) console.error(scrub(problem, secrets));
    return { exitCode: EXIT_USAGE };
  }
  const refusals: string[] = [];
  if (config.postgres.mode !== 'external') {
    refusals.push(
      'DATABASE_URL is not set: the embedded database lives inside the node process and cannot be reached from another process; set DATABASE_URL to the PostgreSQL the node uses',
    );
  }
  if (config.dispatch.fcm.mode !== 'fcm') {
    refusals.push(
      'FCM_PROJECT_ID is not set: FCM is in sandbox mode, where nothing is really sent, so a test push would tell nothing; set FCM_PROJECT_ID and FCM_CREDENTIALS_FILE (and FCM_PROXY_URL, FCM_EXTRA_CA_FILE as the worker has them)',
    );
  }
  if (refusals.length > 0) {
    for (const refusal of refusals) console.error(`${NAME}: ${refusal}`);
    return { exitCode: EXIT_USAGE };
  }
  return { config };
}

async function findUser(client: pg.Client, user: string): Promise<{ row: UserRow | undefined; asked: string } | { invalid: string }> {
  if (UUID.test(user)) {
    const { rows } = await client.query<UserRow>('SELECT id, phone, role, deleted_at FROM users WHERE id = $1', [user.toLowerCase()]);
    return { row: rows[0], asked: `id ${user.toLowerCase()}` };
  }
  const phone = toE164(user);
  if (!phone) return { invalid: `--user ${JSON.stringify(user)} is neither a UUID nor a valid phone number` };
  const { rows } = await client.query<UserRow>('SELECT id, phone, role, deleted_at FROM users WHERE phone = $1', [phone]);
  return { row: rows[0], asked: `phone ${phone}` };
}

async function main(): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseCli(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${NAME}: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args === 'help') {
    console.log(USAGE);
    return EXIT_OK;
  }

  const settings = loadSettings();
  if ('exitCode' in settings) return settings.exitCode;
  const { config } = settings;
  if (config.postgres.mode !== 'external' || config.dispatch.fcm.mode !== 'fcm') return EXIT_USAGE; // checked above
  const fcm = config.dispatch.fcm;
  const secrets = [passwordOf(config.postgres.url), passwordOf(config.postgres.migrationUrl), passwordOf(fcm.proxyUrl)];
  const say = (line: string): void => console.log(scrub(line, secrets));
  const complain = (line: string): void => console.error(scrub(line, secrets));

  const client = new pg.Client({
    connectionString: config.postgres.url,
    connectionTimeoutMillis: 10_000,
    query_timeout: config.postgres.queryTimeoutMs,
    application_name: NAME,
  });
  client.on('error', () => undefined); // a lost connection fails the query in progress, which is reported
  let user: UserRow;
  let devices: DeviceRow[];
  try {
    await client.connect();
    const found = await findUser(client, args.user);
    if ('invalid' in found) {
      complain(`${NAME}: ${found.invalid}`);
      return EXIT_USAGE;
    }
    if (!found.row) {
      complain(`${NAME}: no user with ${found.asked}`);
      return EXIT_NO_TARGET;
    }
    if (found.row.deleted_at) {
      complain(`${NAME}: user ${found.row.id} was deleted on ${found.row.deleted_at.toISOString()}; nothing to send`);
      return EXIT_NO_TARGET;
    }
    user = found.row;
    // The same devices the fan-out sends to (src/dispatch/fan-out.ts): active sessions with a push token.
    const { rows } = await client.query<DeviceRow>(
      `SELECT id, platform, device_model, last_seen_at, push_token FROM device_sessions
        WHERE user_id = $1 AND state = 'active' AND push_token IS NOT NULL
        ORDER BY last_seen_at DESC, id
        LIMIT ${MAX_DEVICES}`,
      [user.id],
    );
    devices = rows;
  } catch (error) {
    complain(`${NAME}: database failed: ${errorMessage(error)}`);
    return EXIT_NOT_ALL_SENT;
  } finally {
    await client.end().catch(() => undefined);
  }

  const who = `user ${user.id} (${user.role}${user.phone ? `, phone ${maskPhone(user.phone)}` : ''})`;
  if (devices.length === 0) {
    complain(`${NAME}: ${who} has no active device with a push token; nothing to send`);
    return EXIT_NO_TARGET;
  }

  const jobId = randomUUID();
  const notification: FcmNotification = {
    jobId,
    queue: args.priority,
    type: TEST_TYPE,
    title: args.title,
    body: args.body,
    data: { test: 'true', test_sent_by: NAME },
  };
  const messages: FcmMessage[] = devices.map((d) => buildFcmMessage(d.push_token, notification));
  const priority = fcmPriority(args.priority);
  say(
    `${NAME}: sending to ${devices.length} device(s) of ${who}: priority ${args.priority} (Android ${priority.android}, APNs ${priority.apns}), ` +
      `TTL ${TEST_TYPE.ttlSeconds} s, project ${fcm.projectId}, transport ${fcm.transport}${fcm.proxyUrl ? ', through the proxy' : ''}${fcm.extraCaFile ? ', extra CA' : ''}, test job ${jobId}`,
  );

  // Loaded here, not at the top: firebase-admin takes a while to load and --help, usage and refusals need none of it.
  const { createFcmSender } = await import('../adapters/fcm/fcm-sender.js');
  let outcomes: FcmOutcome[];
  const startedAt = Date.now();
  try {
    const sender = createFcmSender({
      projectId: fcm.projectId,
      credential: fcm.credentialsFile,
      transport: fcm.transport,
      proxyUrl: fcm.proxyUrl,
      extraCaFile: fcm.extraCaFile,
      maxInFlight: fcm.sendsPerThread,
      appName: `${NAME}-${process.pid}`,
    });
    try {
      outcomes = await sender.sendBatch(messages);
    } finally {
      await sender.close().catch(() => undefined);
    }
  } catch (error) {
    complain(`${NAME}: could not send: ${hideTokens(errorMessage(error), devices)}`);
    return EXIT_NOT_ALL_SENT;
  }
  const elapsedMs = Date.now() - startedAt;

  const counts = { sent: 0, 'remove-token': 0, retry: 0, fail: 0 };
  devices.forEach((d, i) => {
    const outcome = outcomes[i];
    counts[outcome?.kind ?? 'fail']++;
    say(
      [
        `  session ${d.id.slice(0, 8)}`,
        d.platform,
        JSON.stringify(d.device_model),
        `last seen ${d.last_seen_at.toISOString()}`,
        `token ${abbreviateToken(d.push_token)}`,
        hideTokens(describeOutcome(outcome), devices),
      ].join('  '),
    );
  });
  const allSent = counts.sent === devices.length;
  say(
    `${NAME}: ${counts.sent}/${devices.length} sent, ${counts['remove-token']} remove-token, ${counts.retry} retry, ${counts.fail} fail in ${elapsedMs} ms` +
      (allSent ? '' : ' (not every device was sent to)') +
      (counts['remove-token'] > 0 ? '; no token was removed' : ''),
  );
  return allSent ? EXIT_OK : EXIT_NOT_ALL_SENT;
}

/** An error detail that quotes a token shows it abbreviated. */
function hideTokens(text: string, devices: readonly DeviceRow[]): string {
  return devices.reduce((out, d) => out.split(d.push_token).join(abbreviateToken(d.push_token)), text);
}

process.exitCode = await main();
