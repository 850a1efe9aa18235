// Starts the real Koa app on a loopback port with a fake Gateway, test keys and a log that tests can read.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpApp, type HttpDeps } from '../../../http/app.js';
import type { ProblemBody } from '../../../http/problem.js';
import type { RouteDefinition } from '../../../http/route.js';
import type { Surface } from '../../../http/routes/route-catalogue.js';
import { loadConfig, type Config } from '../../../src/config.js';
import type { Gateway } from '../../../src/contracts/gateway.js';
import { ActorNotFoundError } from '../../../src/errors/actor-errors.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import { testTokenVerifier } from '../../support/tokens.js';

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface AskCall {
  readonly actor: string;
  readonly type: string;
  readonly payload: unknown;
  readonly deadlineMs: number | undefined;
}

/** Replies by `actor.type`; a handler may throw to make the ask reject. */
export type FakeReplies = Readonly<Record<string, (payload: unknown) => unknown>>;

export interface FakeGateway extends Gateway {
  readonly calls: AskCall[];
}

/** A Gateway answering from a table; an unknown `actor.type` rejects like a dead letter. */
export function fakeGateway(replies: FakeReplies = {}): FakeGateway {
  const calls: AskCall[] = [];
  const ask = async (actor: string, type: string, payload: unknown, options?: { deadlineMs?: number }): Promise<unknown> => {
    calls.push({ actor, type, payload, deadlineMs: options?.deadlineMs });
    const reply = replies[`${actor}.${type}`];
    if (!reply) throw new ActorNotFoundError(actor);
    return reply(payload);
  };
  // The table is keyed by strings, so the typed generic signature is asserted here once.
  return { ask: ask as Gateway['ask'], calls };
}

export interface HarnessOptions {
  readonly surface?: Surface;
  readonly gateway?: Gateway;
  readonly env?: Readonly<Record<string, string>>;
  readonly extraRoutes?: readonly RouteDefinition[];
  readonly metrics?: HttpDeps['metrics'];
}

export interface Harness {
  readonly url: string;
  readonly config: Config;
  readonly logs: LogLine[];
  /** The process logger the app was given (a test may change its level while the app runs). */
  readonly log: Logger;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startHttp(options: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({ APP_ENV: 'test', LOG_LEVEL: 'debug', ...options.env });
  const logs: LogLine[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const app = createHttpApp({
    config,
    log,
    gateway: options.gateway ?? fakeGateway(),
    auth: testTokenVerifier(),
    surface: options.surface ?? 'api',
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
  });
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    config,
    logs,
    log,
    fetch: (path, init) => fetch(`${url}${path}`, init),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A URL for a Koa route path, each `:param` replaced by a harmless value. */
export function samplePath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, 'sample');
}

/** Reads a problem response, failing when it is not served as application/problem+json. */
export async function readProblem(res: Response): Promise<ProblemBody> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) throw new Error(`expected a problem, got ${res.status} ${type}: ${await res.text()}`);
  return (await res.json()) as ProblemBody;
}
