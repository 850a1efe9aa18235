// Property tests of every accounts route (issue 3): whatever a client sends — valid bodies built from real
// Senegalese numbers in the notations people type, bodies with one field broken, arbitrary JSON, wrong types,
// strings at and over the limits, malformed JSON, wrong content types and encodings, no body, real and
// garbage tokens — the answer is never a 5xx, and every 4xx is application/problem+json with a code from
// the one table of codes (src/errors/error-codes.ts) whose status is the response's.
//
// Reaching the handlers is measured, not assumed: each route handler sends exactly one message to the
// `accounts` actor, and the supervision layer counts the messages each actor handled. The counter is read
// before and after every request (requests run one at a time, and nothing else talks to that actor while a
// request is measured), so "reached" means the request got past authentication, body parsing and
// validation into the accounts service. Each route must reach it on at least a third of its runs.
//
// A 5xx fails the property with the request as sent and the stack the node logged for it (the node logs to
// an in-memory buffer; lines are matched by the X-Request-Id each request carries).
// FC_SEED=<n> replays another seed (the default is fixed so that runs are repeatable); fast-check prints the
// seed and the counterexample path of a failure. PROPERTY_EXCLUDE (see below) leaves out known 5xx inputs.
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { authRoutes } from '../../http/routes/auth-routes.js';
import { meRoutes } from '../../http/routes/me-routes.js';
import { problemType } from '../../http/problem.js';
import { ERROR_STATUS, type ErrorCode } from '../../src/errors/error-codes.js';
import type { ResponseSpec } from '../../http/route.js';
import { bcryptPinHasher } from '../../src/accounts/pin-hasher.js';
import { weakPinRule } from '../../src/domain/pin-rules.js';
import { ManualClock } from '../../src/clock.js';
import type { Gateway } from '../../src/contracts/gateway.js';
import type { SmsMessage } from '../../src/contracts/sms-messages.js';
import { createLogger } from '../../src/logger.js';
import { startNode, type RunningNode } from '../../src/node.js';
import {
  Late,
  anyPinAttempt,
  bodies,
  invalidCode,
  invalidDeviceModel,
  invalidEmail,
  invalidName,
  invalidPhone,
  invalidPin,
  invalidPlatform,
  invalidPushToken,
  resolveLate,
  sixDigits,
  snNotation,
  validDevice,
  validEmail,
  validName,
  validPhone,
  validPin,
  validPushToken,
  wrongType,
  writeSn,
  type BodyShape,
  type BodySpec,
  type SnNotation,
} from '../support/arbitraries.js';
import { actorNode, testConfig } from '../support/node.js';
import { createTestDatabase, type TestDatabase } from '../support/services.js';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_KEYS } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';

const NUM_RUNS = 1_000;
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20_261_125;
/** Codes answered before a handler runs: authentication, authorisation, body reading, validation. */
const BEFORE_HANDLER = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'MALFORMED_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED']);

const clock = new ManualClock(Date.UTC(2026, 10, 25, 8));
const hasher = bcryptPinHasher(4); // cost 4: the same code path, fast enough for thousands of requests
let db: TestDatabase;
let node: RunningNode;
let sql: pg.Client;

// The node's log, kept in memory: a 5xx is reported with the stack logged for its request id.
const logLines: string[] = [];
const logDestination = {
  write(line: string) {
    logLines.push(line);
    if (logLines.length > 5_000) logLines.splice(0, 1_000);
  },
};
function loggedFor(requestId: string): string {
  return logLines
    .filter((l) => l.includes(requestId))
    .map((l) => {
      const entry = JSON.parse(l) as { msg?: string; code?: string; err?: { type?: string; message?: string; stack?: string; code?: string } };
      return `${entry.msg ?? ''} ${entry.code ?? ''}\n${entry.err?.stack ?? entry.err?.message ?? ''}${entry.err?.code ? ` (code ${entry.err.code})` : ''}`;
    })
    .join('\n---\n');
}

// ---------------------------------------------------------------------------------------------------------
// Test accounts, set up through the public API and the SMS sandbox.

interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Clock time of the login: access tokens live 15 minutes of the manual clock. */
  readonly at: number;
}
interface Account {
  readonly phone: string;
  pin: string;
  userId: string;
  /** The last code the SMS sandbox recorded for this phone (verification or PIN reset), when one was sent. */
  code: string | undefined;
  /** Clock time the code was sent: codes expire after 10 minutes. */
  codeAt: number;
  readonly sessions: Session[];
}

let setupIp = 0;
const setupHeaders = () => ({ 'content-type': 'application/json', 'x-forwarded-for': `10.${(++setupIp >> 16) & 255}.${(setupIp >> 8) & 255}.${setupIp & 255}` });
async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${node.apiUrl}${path}`, { method: 'POST', headers: setupHeaders(), body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
async function lastCode(phone: string): Promise<string> {
  const sent = await node.runtime.ask<SmsMessage, 'sandbox-outbox'>('sms', 'sandbox-outbox', { to: phone }, 1_000);
  return /(\d{6})/.exec(sent.at(-1)!.text)![1]!;
}

let nextSetupPhone = 0;
/** Setup numbers: +221 70 9xx xx xx, never picked by the random generators in practice (they draw from 50 M). */
const setupPhone = () => `+221709${String(++nextSetupPhone).padStart(6, '0')}`;

async function newAccount(options: { verified?: boolean; sessions?: number; pinResetCode?: boolean } = {}): Promise<Account> {
  const { verified = true, sessions = 0, pinResetCode = false } = options;
  const phone = setupPhone();
  let pin: string;
  let k = nextSetupPhone;
  do pin = String(1000 + k++ * 7).slice(-4);
  while (weakPinRule(pin, phone)); // registration refuses weak PINs (1098 is a run)
  const reg = await post('/v1/auth/register', { phone, firstName: 'Awa', lastName: 'Diop', pin });
  if (reg.status !== 202) throw new Error(`setup register ${phone}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const account: Account = { phone, pin, userId: '', code: await lastCode(phone), codeAt: clock.now(), sessions: [] };
  if (verified) {
    const v = await post('/v1/auth/verify-phone', { phone, code: account.code, pin });
    if (v.status !== 200) throw new Error(`setup verify ${phone}: ${v.status}`);
    account.code = undefined;
  }
  for (let i = 0; i < sessions; i++) account.sessions.push(await logIn(account, `Setup phone ${i}`));
  if (pinResetCode) {
    const r = await post('/v1/auth/pin-reset', { phone });
    if (r.status !== 202) throw new Error(`setup pin-reset ${phone}: ${r.status}`);
    account.code = await lastCode(phone);
    account.codeAt = clock.now();
  }
  if (!account.userId) account.userId = (await sql.query<{ id: string }>(`SELECT id FROM users WHERE phone = $1`, [phone])).rows[0]!.id;
  return account;
}
/** Opens a session for the account (clearing a lockout its runs may have caused). */
async function logIn(account: Account, deviceModel: string): Promise<Session> {
  const body = { phone: account.phone, pin: account.pin, deviceModel, platform: 'android' };
  let login = await post('/v1/auth/login', body);
  if (login.status === 429) {
    await sql.query(`DELETE FROM login_failures`);
    login = await post('/v1/auth/login', body);
  }
  if (login.status !== 200) throw new Error(`setup login ${account.phone}: ${login.status} ${JSON.stringify(login.body)}`);
  account.userId = login.body.user.id;
  return { accessToken: login.body.accessToken, refreshToken: login.body.refreshToken, at: clock.now() };
}
const accounts = (n: number, options: Parameters<typeof newAccount>[0]) => Array.from({ length: n }, () => newAccount(options));
async function all<T>(list: Promise<T>[]): Promise<T[]> {
  const out: T[] = [];
  for (const p of list) out.push(await p); // created concurrently, collected in order
  return out;
}

/** The accounts each route's generators refer to (by index), filled in beforeAll and replenished as runs use them up. */
const pools = {
  login: [] as Account[],
  loginUnverified: [] as Account[],
  registerUnverified: [] as Account[],
  verify: [] as Account[],
  refresh: [] as Account[],
  refreshTokens: [] as string[],
  pinReset: [] as Account[],
  pinResetConfirm: [] as Account[],
  logout: [] as Account[],
  me: [] as Account[],
  patchMe: [] as Account[],
  deleteMe: [] as Account[],
  changePin: [] as Account[],
  pushToken: [] as Account[],
};
type PoolName = Exclude<keyof typeof pools, 'refreshTokens'>;
const pick = (pool: PoolName, i: number): Account => pools[pool][i % pools[pool].length]!;

/** The account the current request acts as (its token, its PIN): set before a case's Late values resolve. */
let current: Account | undefined;
const currentPin = new Late('current PIN of the signed-in account', () => current?.pin ?? '0000');
const phoneOf = (pool: PoolName, i: number, notation: SnNotation) => new Late(`${pool}[${i}] phone as ${notation}`, () => writeSn(pick(pool, i).phone, notation));
const pinOf = (pool: PoolName, i: number) => new Late(`${pool}[${i}] PIN`, () => pick(pool, i).pin);
const codeOf = (pool: PoolName, i: number) => new Late(`${pool}[${i}] SMS code`, () => pick(pool, i).code ?? '000000');

// ---------------------------------------------------------------------------------------------------------
// Tokens

/** Signs a token the way the node does (its current key), with claims and times chosen by the test. */
async function sign(options: { sub?: string; role?: string; agency?: string | null; sid?: string; expSeconds?: number; kid?: string | null; key?: 'current' | 'previous'; audience?: string; issuer?: string }): Promise<string> {
  const key = TEST_KEYS[options.key ?? 'current'];
  const nowSec = Math.floor(clock.now() / 1000);
  const claims: Record<string, unknown> = { role: options.role ?? 'customer', agency: 'agency' in options ? options.agency : options.role === 'agent' ? 'dakar-plateau' : null };
  if (options.sid) claims.sid = options.sid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(options.kid === null ? {} : { kid: options.kid ?? key.kid }) })
    .setSubject(options.sub ?? randomUUID())
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + (options.expSeconds ?? 900))
    .sign(key.privateKey);
}

/** Authorization headers that are not a live customer session (or not a token at all). */
const OTHER_TOKENS = {
  expired: () => sign({ sub: current?.userId, expSeconds: -3_600 }),
  unknownKid: () => sign({ sub: current?.userId, kid: 'rotated-away' }),
  noKid: () => sign({ sub: current?.userId, kid: null }),
  wrongAudience: () => sign({ sub: current?.userId, audience: 'another-app' }),
  wrongIssuer: () => sign({ sub: current?.userId, issuer: 'someone-else' }),
  agent: () => sign({ role: 'agent' }),
  admin: () => sign({ role: 'admin' }),
  agentWithoutAgency: () => sign({ role: 'agent', agency: null }),
  unknownRole: () => sign({ role: 'superuser' }),
  deletedUser: () => sign({ sub: randomUUID(), sid: randomUUID() }),
  previousKeyStranger: () => sign({ key: 'previous' }),
  sessionOfSomeoneElse: () => sign({ sub: current?.userId, sid: randomUUID() }),
  withoutSession: () => sign({ sub: current?.userId }),
  hs256: async () =>
    new SignJWT({ role: 'customer' }).setProtectedHeader({ alg: 'HS256', kid: 'test-current' }).setSubject(randomUUID()).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setExpirationTime(Math.floor(clock.now() / 1000) + 900).sign(new TextEncoder().encode('a-guessed-secret-a-guessed-secret')),
  algNone: async () => `${Buffer.from('{"alg":"none","typ":"JWT","kid":"test-current"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: current?.userId ?? 'x', role: 'customer', exp: 4_000_000_000 })).toString('base64url')}.`,
  tampered: async () => {
    const t = current?.sessions[0]?.accessToken ?? (await sign({}));
    return `${t.slice(0, -3)}${t.endsWith('AAA') ? 'BBB' : 'AAA'}`;
  },
  refreshTokenAsBearer: async () => current?.sessions[0]?.refreshToken ?? 'x',
} as const;
type OtherToken = keyof typeof OTHER_TOKENS;

type AuthSpec =
  | { readonly kind: 'session'; readonly session: number; readonly scheme: string }
  | { readonly kind: 'token'; readonly token: OtherToken; readonly scheme: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'raw'; readonly header: string };

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 300 });
const authSpec: fc.Arbitrary<AuthSpec> = fc.oneof(
  {
    weight: 76,
    arbitrary: fc.record({
      kind: fc.constant('session' as const),
      session: fc.nat({ max: 7 }),
      scheme: fc.constantFrom('Bearer ', 'Bearer ', 'Bearer ', 'bearer ', 'BEARER ', ' Bearer '),
    }),
  },
  { weight: 14, arbitrary: fc.record({ kind: fc.constant('token' as const), token: fc.constantFrom(...(Object.keys(OTHER_TOKENS) as OtherToken[])), scheme: fc.constantFrom('Bearer ', 'Bearer  ', 'Token ') }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 7,
    arbitrary: fc
      .oneof(
        printable,
        printable.map((s) => `Bearer ${s}`),
        fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,400}={0,2}$/).map((s) => `Bearer ${s}`),
        fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'Bearer null', 'Bearer undefined', 'Bearer a.b.c', 'Bearer ...', `Bearer ${'A'.repeat(8_000)}`),
      )
      .map((header) => ({ kind: 'raw' as const, header })),
  },
);

async function authorization(spec: AuthSpec | undefined): Promise<string | undefined> {
  if (!spec || spec.kind === 'none') return undefined;
  if (spec.kind === 'raw') return spec.header;
  if (spec.kind === 'token') return `${spec.scheme}${await OTHER_TOKENS[spec.token]()}`;
  const sessions = current?.sessions ?? [];
  const slot = spec.session % Math.max(1, sessions.length);
  // The clock moves during some routes' runs: sessions older than 10 minutes sign in again (unmeasured), all of
  // them, since each login past the limit of active sessions ends the account's oldest one (and its tokens at once).
  if (current && sessions[slot] && clock.now() - sessions[slot].at > 10 * 60_000) {
    for (let i = 0; i < sessions.length; i++) sessions[i] = await logIn(current, 'Signed in again');
  }
  return `${spec.scheme}${sessions[slot]?.accessToken ?? 'no-session'}`;
}

// ---------------------------------------------------------------------------------------------------------
// Requests

interface Case {
  /** Which account of the route's pool the request acts as (token, current PIN). */
  readonly account: number;
  readonly auth: AuthSpec | undefined;
  readonly body: BodySpec | undefined;
  readonly ip: string;
  readonly query: string;
  /** Clears the PIN lockout counters first, so a locked account becomes reachable again. */
  readonly clearLockout: boolean;
  /** Moves the manual clock first (grace window, resend cooldown, SMS budgets); 0 on most runs. */
  readonly advanceMs: number;
}

interface Sent {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** The body as sent (text; gzip bodies show their text before compression), shortened for messages. */
  readonly bodyText: string | undefined;
  /** The JSON value sent, when the body was JSON (Late values resolved). */
  readonly json: unknown;
}
interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly body: any;
  readonly reached: boolean;
  readonly ms: number;
}

function accountsHandled(): number {
  return actorNode(node, 'accounts')!.stats.handled;
}

let requestSeq = 0;
async function send(method: string, path: string, c: Case): Promise<{ sent: Sent; answer: Answer }> {
  const requestId = `prop-${++requestSeq}-${randomUUID().slice(0, 8)}`;
  const headers: Record<string, string> = { 'x-forwarded-for': c.ip, 'x-request-id': requestId };
  const auth = await authorization(c.auth);
  if (auth !== undefined) headers.authorization = auth;
  let payload: Buffer | undefined;
  let bodyText: string | undefined;
  let json: unknown;
  if (c.body?.kind === 'json') {
    json = await resolveLate(c.body.value);
    bodyText = JSON.stringify(json) ?? 'null';
    payload = c.body.gzip ? gzipSync(bodyText) : Buffer.from(bodyText);
    if (c.body.contentType !== null) headers['content-type'] = c.body.contentType;
    if (c.body.gzip) headers['content-encoding'] = 'gzip';
  } else if (c.body?.kind === 'raw') {
    bodyText = c.body.text;
    payload = Buffer.from(c.body.text);
    if (c.body.contentType !== null) headers['content-type'] = c.body.contentType;
    if (c.body.contentEncoding) headers['content-encoding'] = c.body.contentEncoding;
  } else if (c.body?.kind === 'none' && c.body.contentType) {
    headers['content-type'] = c.body.contentType;
  }
  const url = `${node.apiUrl}${path}${c.query}`;
  const before = accountsHandled();
  const started = performance.now();
  // Buffers carry no implicit content type: a body without one is sent without one.
  const res = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  const ms = performance.now() - started;
  const reached = accountsHandled() > before;
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const shown = bodyText !== undefined && bodyText.length > 600 ? `${bodyText.slice(0, 600)}… (${bodyText.length} characters)` : bodyText;
  return {
    sent: { method, url, headers: { ...headers, ...(auth && auth.length > 200 ? { authorization: `${auth.slice(0, 200)}…` } : {}) }, bodyText: shown, json },
    answer: { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body, reached, ms },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The routes

interface RouteUnderTest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** The accounts a private route's tokens belong to. */
  readonly pool?: PoolName;
  /** Undefined for routes without a body. */
  readonly body?: BodyShape;
  /** Clock moves a case may make first (on about one run in 30): grace windows, cooldowns, SMS budgets. */
  readonly advance?: readonly number[];
  /** Prepares state before the request (not measured): e.g. codes that expired while the clock moved. */
  before?(c: Case): Promise<void>;
  /** Keeps the route's accounts usable after a run changed them (PIN changed, account deleted, code used). */
  after?(c: Case, sent: Sent, answer: Answer): Promise<void>;
}

const ROUTES: RouteUnderTest[] = [
  {
    method: 'POST',
    path: '/v1/auth/register',
    advance: [61_000], // past the resend cooldown, towards the daily SMS budget of the pool's phones
    body: {
      valid: fc.record({
        phone: fc.oneof(
          { weight: 8, arbitrary: validPhone },
          { weight: 1, arbitrary: fc.tuple(fc.nat(), snNotation).map(([i, n]): unknown => phoneOf('login', i, n)) }, // proved: the same answer as a new number, a notice instead of a code
          { weight: 1, arbitrary: fc.tuple(fc.nat(), snNotation).map(([i, n]): unknown => phoneOf('registerUnverified', i, n)) }, // unproved: refreshed
        ),
        firstName: validName,
        lastName: validName,
        pin: validPin,
      }),
      broken: { phone: fc.oneof(invalidPhone, wrongType), firstName: invalidName, lastName: invalidName, pin: invalidPin },
      required: ['phone', 'firstName', 'lastName', 'pin'],
      limits: { phone: 32, firstName: 80, lastName: 80, pin: 6 },
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/verify-phone',
    before: () => replaceStale('verify', { verified: false }),
    body: {
      valid: fc.oneof(
        {
          weight: 3,
          arbitrary: fc
            .tuple(fc.nat(), snNotation, fc.integer({ min: 0, max: 3 }), sixDigits, validPin)
            .map(([i, n, k, random, otherPin]) => ({ phone: phoneOf('verify', i, n), code: k > 0 ? codeOf('verify', i) : random, pin: k > 1 ? pinOf('verify', i) : otherPin })),
        },
        { weight: 1, arbitrary: fc.record({ phone: validPhone, code: sixDigits, pin: validPin }) },
      ),
      broken: { phone: fc.oneof(invalidPhone, wrongType), code: invalidCode, pin: wrongType },
      required: ['phone', 'code', 'pin'],
      limits: { phone: 32, code: 6, pin: 64 },
    },
    async after(_c, sent, answer) {
      // A used or burnt code: the pool gets a fresh unverified account in its place.
      const json = sent.json as { phone?: unknown } | undefined;
      const account = pools.verify.find((a) => typeof json?.phone === 'string' && a.phone === normalise(json.phone));
      if (account && codeUsedUp(answer)) pools.verify[pools.verify.indexOf(account)] = await newAccount({ verified: false });
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/login',
    body: {
      valid: fc
        .tuple(
          fc.oneof(
            { weight: 3, arbitrary: fc.tuple(fc.nat(), snNotation).map(([i, n]) => ({ phone: phoneOf('login', i, n) as unknown, pin: pinOf('login', i) as unknown })) },
            { weight: 2, arbitrary: fc.tuple(fc.nat(), snNotation, anyPinAttempt).map(([i, n, pin]) => ({ phone: phoneOf('login', i, n) as unknown, pin: pin as unknown })) },
            { weight: 1, arbitrary: fc.tuple(fc.nat(), snNotation).map(([i, n]) => ({ phone: phoneOf('loginUnverified', i, n) as unknown, pin: pinOf('loginUnverified', i) as unknown })) },
            { weight: 2, arbitrary: fc.record({ phone: validPhone as fc.Arbitrary<unknown>, pin: anyPinAttempt as fc.Arbitrary<unknown> }) },
          ),
          validDevice,
        )
        .map(([credentials, device]) => ({ ...credentials, ...device })),
      broken: {
        phone: fc.oneof(invalidPhone, wrongType),
        pin: fc.oneof(fc.constantFrom('', 'x'.repeat(65)), wrongType),
        deviceModel: invalidDeviceModel,
        platform: invalidPlatform,
        pushToken: invalidPushToken,
      },
      required: ['phone', 'pin', 'deviceModel', 'platform'],
      limits: { phone: 32, pin: 64, deviceModel: 120, pushToken: 4096 },
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/agent-login',
    body: {
      // No LDAP_URL here: the sandbox directory with the demo agents answers (src/demo/demo-accounts.ts).
      valid: fc
        .tuple(
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom({ login: 'agent.demo', password: 'demo-agent-pass' }, { login: 'ADMIN.demo', password: 'demo-admin-pass' }) },
            { weight: 2, arbitrary: fc.record({ login: fc.constantFrom('agent.demo', 'admin.demo'), password: fc.string({ maxLength: 40 }) }) },
            { weight: 1, arbitrary: fc.record({ login: fc.string({ minLength: 1, maxLength: 60 }), password: fc.string({ maxLength: 60 }) }) },
          ),
          validDevice,
        )
        .map(([credentials, device]) => ({ ...credentials, ...device })),
      broken: {
        login: fc.oneof(fc.constantFrom('', '   ', 'x'.repeat(257)), wrongType),
        password: fc.oneof(fc.constant('p'.repeat(257)), wrongType),
        deviceModel: invalidDeviceModel,
        platform: invalidPlatform,
        pushToken: invalidPushToken,
      },
      required: ['login', 'password', 'deviceModel', 'platform'],
      limits: { login: 256, password: 256, deviceModel: 120, pushToken: 1024 },
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/refresh',
    advance: [3_000, 11_000],
    body: {
      valid: fc.record({
        refreshToken: fc.oneof(
          { weight: 5, arbitrary: fc.nat().map((i): unknown => new Late(`refresh token ${i}`, () => pools.refreshTokens[i % pools.refreshTokens.length]!)) },
          { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
          { weight: 2, arbitrary: fc.string({ minLength: 16, maxLength: 256 }) },
          { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 16, maxLength: 256 }) },
        ),
      }),
      broken: { refreshToken: fc.oneof(fc.string({ maxLength: 15 }), fc.constant('r'.repeat(257)), wrongType) },
      required: ['refreshToken'],
      limits: { refreshToken: 256 },
    },
    async after(_c, _sent, answer) {
      if (answer.status === 200 && typeof answer.body?.refreshToken === 'string') pools.refreshTokens.push(answer.body.refreshToken);
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/logout',
    pool: 'logout',
    body: {
      valid: fc.oneof(fc.constant({}), fc.record({ all: fc.boolean() })),
      broken: { all: fc.oneof(fc.constantFrom('true', 'false', 1, 0, null, 'yes'), fc.array(fc.boolean(), { maxLength: 2 })) },
      required: [],
      limits: {},
    },
    async after(_c, _sent, answer) {
      // Keep sessions to end: an account whose sessions ended signs in again.
      if (answer.status === 200 && answer.body?.ended > 0 && current) current.sessions.splice(0, current.sessions.length, await logIn(current, 'Signed in again'));
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/pin-reset',
    advance: [61_000],
    body: {
      valid: fc.record({
        phone: fc.oneof(
          { weight: 6, arbitrary: validPhone as fc.Arbitrary<unknown> },
          { weight: 2, arbitrary: fc.tuple(fc.nat(), snNotation).map(([i, n]): unknown => phoneOf('pinReset', i, n)) },
          { weight: 1, arbitrary: fc.tuple(fc.nat(), snNotation).map(([i, n]): unknown => phoneOf('loginUnverified', i, n)) },
        ),
      }),
      broken: { phone: fc.oneof(invalidPhone, wrongType) },
      required: ['phone'],
      limits: { phone: 32 },
    },
  },
  {
    method: 'POST',
    path: '/v1/auth/pin-reset/confirm',
    before: () => replaceStale('pinResetConfirm', { pinResetCode: true }),
    body: {
      valid: fc.oneof(
        {
          weight: 3,
          arbitrary: fc
            .tuple(fc.nat(), snNotation, fc.integer({ min: 0, max: 3 }), sixDigits, validPin)
            .map(([i, n, k, random, newPin]) => ({ phone: phoneOf('pinResetConfirm', i, n), code: k > 0 ? codeOf('pinResetConfirm', i) : random, newPin })),
        },
        { weight: 1, arbitrary: fc.record({ phone: validPhone, code: sixDigits, newPin: validPin }) },
      ),
      broken: { phone: fc.oneof(invalidPhone, wrongType), code: invalidCode, newPin: invalidPin },
      required: ['phone', 'code', 'newPin'],
      limits: { phone: 32, code: 6, newPin: 6 },
    },
    async after(_c, sent, answer) {
      const json = sent.json as { phone?: unknown } | undefined;
      const account = pools.pinResetConfirm.find((a) => typeof json?.phone === 'string' && a.phone === normalise(json.phone));
      if (account && codeUsedUp(answer)) pools.pinResetConfirm[pools.pinResetConfirm.indexOf(account)] = await newAccount({ pinResetCode: true });
    },
  },
  { method: 'GET', path: '/v1/me', pool: 'me' },
  {
    method: 'PATCH',
    path: '/v1/me',
    pool: 'patchMe',
    body: {
      valid: fc
        .record({ firstName: validName, lastName: validName, email: fc.option(validEmail, { nil: null }) }, { requiredKeys: [] })
        .filter((v) => Object.keys(v).length > 0),
      broken: { firstName: invalidName, lastName: invalidName, email: invalidEmail },
      required: [],
      limits: { firstName: 80, lastName: 80, email: 254 },
    },
  },
  {
    method: 'DELETE',
    path: '/v1/me',
    pool: 'deleteMe',
    body: {
      valid: fc.record({ pin: fc.oneof({ weight: 1, arbitrary: fc.constant(currentPin as unknown) }, { weight: 3, arbitrary: anyPinAttempt as fc.Arbitrary<unknown> }) }),
      broken: { pin: fc.oneof(fc.constantFrom('', 'x'.repeat(65)), wrongType) },
      required: ['pin'],
      limits: { pin: 64 },
    },
    async after(c, _sent, answer) {
      // A deleted account is replaced, so the deletion path keeps being exercised.
      if (answer.status === 204) pools.deleteMe[c.account % pools.deleteMe.length] = await newAccount({ sessions: 2 });
    },
  },
  {
    method: 'PUT',
    path: '/v1/me/pin',
    pool: 'changePin',
    body: {
      valid: fc.record({ currentPin: fc.oneof(fc.constant(currentPin as unknown), anyPinAttempt as fc.Arbitrary<unknown>), newPin: validPin }),
      broken: { currentPin: fc.oneof(fc.constantFrom('', 'x'.repeat(65)), wrongType), newPin: invalidPin },
      required: ['currentPin', 'newPin'],
      limits: { currentPin: 64, newPin: 6 },
    },
    async after(c, sent, answer) {
      if (answer.status !== 200 || !current) return;
      current.pin = (sent.json as { newPin: string }).newPin;
      // The change ended the account's other sessions (their tokens are refused at once): sign them in again.
      const sessions = current.sessions;
      const used = c.auth?.kind === 'session' ? c.auth.session % Math.max(1, sessions.length) : -1;
      for (let i = 0; i < sessions.length; i++) if (i !== used) sessions[i] = await logIn(current, 'Signed in again');
    },
  },
  {
    method: 'PUT',
    path: '/v1/me/push-token',
    pool: 'pushToken',
    body: {
      valid: fc.record({ pushToken: fc.oneof({ weight: 4, arbitrary: validPushToken as fc.Arbitrary<string | null> }, { weight: 1, arbitrary: fc.constant(null) }) }),
      broken: { pushToken: invalidPushToken },
      required: ['pushToken'],
      limits: { pushToken: 4096 },
    },
  },
];

/** The code was accepted, or burnt by wrong tries (the problem's detail then asks for a new one). */
const codeUsedUp = (answer: Answer) => answer.status === 200 || (answer.body?.code === 'INVALID_CODE' && /new one/.test(String(answer.body?.detail)));

/** Replaces the pool's accounts whose code has expired (or is about to) on the moving clock. */
async function replaceStale(pool: PoolName, options: Parameters<typeof newAccount>[0]): Promise<void> {
  const list = pools[pool];
  for (let i = 0; i < list.length; i++) if (clock.now() - list[i]!.codeAt > 9 * 60_000) list[i] = await newAccount(options);
}

/** E.164 of what a generator wrote, the way the server reads it (for matching answers to pool accounts). */
function normalise(phone: string): string {
  const digits = phone.replace(/[\uff10-\uff19]/g, (c) => String(c.charCodeAt(0) - 0xff10)).replace(/\D/g, '');
  const national = digits.slice(-9);
  return `+221${national}`;
}

// The routes' own response schemas: every 2xx must match what the OpenAPI document promises.
const declared = [...authRoutes({ gateway: {} as Gateway }), ...meRoutes({ gateway: {} as Gateway })];
function successSchema(method: string, path: string, status: number): ResponseSpec | undefined {
  return declared.find((r) => r.method === method && r.path === path)?.responses[status];
}

/**
 * PROPERTY_EXCLUDE=nul,content-encoding leaves out the inputs of the 5xx found when this file was written
 * (a U+0000 in a stored text field; a body that does not decode with its Content-Encoding), to look for
 * other failures beneath them while those are being fixed. By default nothing is left out.
 */
const EXCLUDED = new Set((process.env.PROPERTY_EXCLUDE ?? '').split(',').map((s) => s.trim()).filter(Boolean));
function excluded(c: Case): boolean {
  const body = c.body;
  const text = body?.kind === 'json' ? (JSON.stringify(body.value) ?? '') : body?.kind === 'raw' ? body.text : '';
  if (EXCLUDED.has('nul') && (text.includes('\\u0000') || text.includes('\u0000'))) return true;
  if (EXCLUDED.has('content-encoding') && body?.kind === 'raw' && body.contentEncoding !== undefined && body.contentEncoding !== 'identity') return true;
  return false;
}

function caseOf(route: RouteUnderTest): fc.Arbitrary<Case> {
  const cases = fc.record({
    account: fc.nat({ max: 1_000 }),
    auth: route.pool ? authSpec : fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: authSpec }),
    body: route.body ? bodies(route.body) : fc.constant(undefined),
    ip: fc.oneof({ weight: 30, arbitrary: fc.ipV4() }, { weight: 1, arbitrary: fc.ipV6() }, { weight: 1, arbitrary: fc.constantFrom('unknown', '', '10.0.0.1, 10.0.0.2', ' ') }),
    query: fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('?', '?all=true', '?a[b][c]=1&a=2', '?%', '?phone=771234567&pin=1234', `?x=${'q'.repeat(2_000)}`) }),
    clearLockout: fc.integer({ min: 0, max: 24 }).map((n) => n === 0),
    advanceMs: route.advance ? fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(...route.advance) }) : fc.constant(0),
  });
  return EXCLUDED.size ? cases.filter((c) => !excluded(c)) : cases;
}

interface Tally {
  runs: number;
  reached: number;
  validBodies: number;
  success: number;
  ms: number;
  slowestMs: number;
  codes: Map<string, number>;
}
const tallies = new Map<string, Tally>();

function describeFailure(sent: Sent, answer: Answer, why: string): string {
  const logged = loggedFor(sent.headers['x-request-id']!);
  return [
    why,
    `request: ${sent.method} ${sent.url}`,
    `headers: ${JSON.stringify(sent.headers)}`,
    `body: ${sent.bodyText === undefined ? '(none)' : JSON.stringify(sent.bodyText)}`,
    `answer: ${answer.status} ${answer.contentType} ${answer.text.slice(0, 1_000)}`,
    logged ? `node log:\n${logged}` : 'node log: (nothing logged for this request id)',
  ].join('\n');
}

async function runProperty(route: RouteUnderTest): Promise<Tally> {
  const tally: Tally = { runs: 0, reached: 0, validBodies: 0, success: 0, ms: 0, slowestMs: 0, codes: new Map() };
  const property = fc.asyncProperty(caseOf(route), async (c) => {
    tally.runs++;
    current = route.pool ? pick(route.pool, c.account) : undefined;
    if (c.clearLockout) await sql.query(`DELETE FROM login_failures`);
    if (c.advanceMs) clock.advance(c.advanceMs);
    await route.before?.(c);
    const { sent, answer } = await send(route.method, route.path, c);
    tally.ms += answer.ms;
    tally.slowestMs = Math.max(tally.slowestMs, answer.ms);
    if (c.body?.kind === 'json' && c.body.valid) tally.validBodies++;
    if (answer.reached) tally.reached++;
    const label = answer.status < 300 ? String(answer.status) : `${answer.status} ${answer.body?.code ?? '?'}`;
    tally.codes.set(label, (tally.codes.get(label) ?? 0) + 1);

    if (answer.status >= 500) throw new Error(describeFailure(sent, answer, `${answer.status}: a 5xx`));
    if (answer.status >= 400) {
      const problem = answer.body as { code?: unknown; status?: unknown; type?: unknown; requestId?: unknown } | undefined;
      const ok =
        answer.contentType.startsWith('application/problem+json') &&
        typeof problem?.code === 'string' &&
        ERROR_STATUS[problem.code as ErrorCode] === answer.status &&
        problem.status === answer.status &&
        problem.type === problemType(problem.code) &&
        problem.requestId === sent.headers['x-request-id'];
      if (!ok) throw new Error(describeFailure(sent, answer, 'a 4xx that is not a problem+json with a code mapped to its status'));
      if (!answer.reached && !BEFORE_HANDLER.has(problem.code as string)) {
        throw new Error(describeFailure(sent, answer, `${problem.code as string} answered although the handler was not reached`));
      }
    } else {
      tally.success++;
      if (!answer.reached) throw new Error(describeFailure(sent, answer, 'a success without reaching the handler'));
      const spec = successSchema(route.method, route.path, answer.status);
      if (spec === undefined) throw new Error(describeFailure(sent, answer, `status ${answer.status} is not declared by the route`));
      if (typeof spec === 'string') {
        if (answer.text !== '') throw new Error(describeFailure(sent, answer, 'a body on a response declared without one'));
      } else {
        const schema = (typeof spec === 'object' && 'safeParse' in spec ? spec : (spec as { schema?: z.ZodType }).schema) as z.ZodType;
        if (!answer.contentType.startsWith('application/json') || !schema.safeParse(answer.body).success) {
          throw new Error(describeFailure(sent, answer, 'a success whose body does not match the declared response'));
        }
      }
    }
    await route.after?.(c, sent, answer);
  });
  await fc.assert(property, { numRuns: NUM_RUNS, seed: SEED });
  return tally;
}

beforeAll(async () => {
  db = await createTestDatabase();
  node = await startNode(
    testConfig({ DATABASE_URL: db.url, REDIS_URL: undefined, TRUSTED_PROXY_HOPS: '1' }),
    createLogger({ level: 'warn', destination: logDestination }),
    { clock, hasher },
  );
  await waitFor('ready', () => node.runtime.readiness('test').ready);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();

  pools.login = await all(accounts(3, {}));
  pools.loginUnverified = await all(accounts(2, { verified: false }));
  pools.registerUnverified = await all(accounts(3, { verified: false }));
  pools.verify = await all(accounts(20, { verified: false }));
  pools.refresh = await all(accounts(2, { sessions: 2 }));
  pools.refreshTokens = pools.refresh.flatMap((a) => a.sessions.map((s) => s.refreshToken));
  pools.pinReset = await all(accounts(4, {}));
  pools.pinResetConfirm = await all(accounts(12, { pinResetCode: true }));
  pools.logout = await all(accounts(3, { sessions: 2 }));
  pools.me = await all(accounts(2, { sessions: 2 }));
  pools.patchMe = await all(accounts(2, { sessions: 2 }));
  pools.deleteMe = await all(accounts(12, { sessions: 2 }));
  pools.changePin = await all(accounts(2, { sessions: 2 }));
  pools.pushToken = await all(accounts(3, { sessions: 2 }));
  logLines.length = 0;
}, 120_000);

afterAll(async () => {
  const rows = [...tallies].map(([route, t]) => ({
    route,
    runs: t.runs,
    reached: t.reached,
    'reach %': ((100 * t.reached) / Math.max(1, t.runs)).toFixed(1),
    'valid bodies %': ((100 * t.validBodies) / Math.max(1, t.runs)).toFixed(1),
    '2xx': t.success,
    'mean ms': (t.ms / Math.max(1, t.runs)).toFixed(2),
    'max ms': t.slowestMs.toFixed(0),
    answers: [...t.codes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(', '),
  }));
  if (rows.length) console.table(rows);
  await sql?.end();
  await node?.stop();
  await db?.drop();
});

describe.each(ROUTES)('$method $path', (route) => {
  it(`never answers 5xx, answers every 4xx as problem+json with a mapped code, and reaches the handler on ≥ 1/3 of ${NUM_RUNS} runs`, async () => {
    const tally = await runProperty(route);
    tallies.set(`${route.method} ${route.path}`, tally);
    expect(tally.runs).toBe(NUM_RUNS);
    expect(tally.reached / tally.runs).toBeGreaterThanOrEqual(1 / 3);
    expect(tally.success).toBeGreaterThan(0);
  }, 120_000);
});
