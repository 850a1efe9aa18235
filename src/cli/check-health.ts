// `npm run check-health -- [--url URL]`: on-call's one-look check of the whole cluster through the admin API of any
// API instance. Prints a table of every part of every node (state, latency, detail), the API's readiness and the
// four priority queues, then the problems; exits 1 when a required part is down, a node sends no snapshot, the API
// is not ready, or a priority queue has no consumer and is not paused.
//
// Credentials never on the command line: SAMACONSO_ADMIN_TOKEN (an admin's access token), or SAMACONSO_ADMIN_LOGIN
// and SAMACONSO_ADMIN_PASSWORD (signs in through /v1/auth/agent-login, and out again at the end). Exit codes:
// 0 healthy; 1 unhealthy; 2 usage or credentials; 3 the API could not be asked (unreachable, unexpected answer).
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { TreeNodeSchema } from '../../http/schemas/supervision.js';
import { AppError, errorMessage } from '../errors/app-error.js';
import { assessCluster, renderTable, type QueueView, type ReadyView } from './cluster-health.js';

const EXIT_HEALTHY = 0;
const EXIT_UNHEALTHY = 1;
const EXIT_USAGE = 2;
const EXIT_UNREACHABLE = 3;
const TIMEOUT_MS = 15_000;
const DEFAULT_URL = 'http://127.0.0.1:8000';

const USAGE = `usage: npm run check-health -- [--url http://api-host:8000]

Asks the admin API (any API instance: it shows every node of the cluster) for the alive nodes, each node's
supervision tree, the broker's queue counts and the instance's readiness; prints one row per part, then the problems.
  --url <url>   the API's base URL (default SAMACONSO_URL, else ${DEFAULT_URL})
LATENCY is, for a node's part, how old its state is (the age of the node's last snapshot); for /health/ready the
round trip. Credentials: SAMACONSO_ADMIN_TOKEN, or SAMACONSO_ADMIN_LOGIN + SAMACONSO_ADMIN_PASSWORD (an admin).
Exit codes: 0 healthy; 1 a required part down, a node without snapshot, the API not ready, or a priority queue
without consumer and not paused; 2 usage or credentials; 3 the API could not be asked.`;

/** Bad arguments or credentials (exit 2). */
class CheckUsageError extends AppError {
  readonly code = 'CLI_USAGE';
}

/** The API could not be asked, or answered what this check cannot read (exit 3). */
class ApiUnreachableError extends AppError {
  readonly code = 'CLI_API_UNREACHABLE';
}

// The control plane's shapes (src/contracts/control-plane-messages.ts), checked at the edge like any input.
const NodesSchema = z.object({
  nodes: z.array(
    z.object({ node: z.string(), role: z.string(), host: z.string(), pid: z.number(), incarnation: z.string(), startedAt: z.string(), heartbeatAt: z.string(), snapshotAgeMs: z.number().nullable() }),
  ),
});
const TreesSchema = z.object({ nodes: z.array(z.object({ node: z.string(), role: z.string(), at: z.string(), ageMs: z.number(), tree: TreeNodeSchema })) });
const QueuesSchema = z.object({ queues: z.array(z.object({ name: z.string(), consumers: z.number(), paused: z.boolean().nullable() })) });
const ReadySchema = z.object({ ready: z.boolean(), role: z.string().optional(), parts: z.array(z.object({ name: z.string(), ready: z.boolean(), required: z.boolean().optional() })).default([]) });

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly latencyMs: number;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new ApiUnreachableError(`cannot reach ${url}: ${errorMessage(e)}`, { cause: e });
  }
  const text = await res.text();
  const latencyMs = performance.now() - started;
  try {
    return { status: res.status, body: JSON.parse(text) as unknown, latencyMs };
  } catch {
    return { status: res.status, body: text, latencyMs };
  }
}

function parsed<T>(path: string, answer: Answer, schema: z.ZodType<T>): T {
  if (answer.status === 401 || answer.status === 403) throw new CheckUsageError(`GET ${path} answered ${answer.status}: the credentials are not an admin's`);
  if (answer.status !== 200) throw new ApiUnreachableError(`GET ${path} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  const r = schema.safeParse(answer.body);
  if (!r.success) throw new ApiUnreachableError(`unexpected answer from GET ${path}: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return r.data;
}

interface Session {
  readonly token: string;
  /** Signs out again when the check signed in (an agent's sessions are limited). */
  readonly end: () => Promise<void>;
}

async function signIn(base: string, env: NodeJS.ProcessEnv): Promise<Session> {
  if (env.SAMACONSO_ADMIN_TOKEN) return { token: env.SAMACONSO_ADMIN_TOKEN, end: async () => undefined };
  const login = env.SAMACONSO_ADMIN_LOGIN;
  const password = env.SAMACONSO_ADMIN_PASSWORD;
  if (!login || !password) throw new CheckUsageError('set SAMACONSO_ADMIN_TOKEN, or SAMACONSO_ADMIN_LOGIN and SAMACONSO_ADMIN_PASSWORD');
  const { status, body } = await call(`${base}/v1/auth/agent-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password, deviceModel: 'npm run check-health', platform: 'web' }),
  });
  const token = (body as { accessToken?: unknown } | null)?.accessToken;
  if (status !== 200 || typeof token !== 'string') throw new CheckUsageError(`sign-in as ${login} refused (${status})`);
  const end = async (): Promise<void> => {
    await call(`${base}/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  };
  return { token, end };
}

async function readiness(base: string): Promise<ReadyView> {
  const answer = await call(`${base}/health/ready`);
  // 200: the report; 503: a NOT_READY problem listing the parts.
  if (answer.status !== 200 && answer.status !== 503) throw new ApiUnreachableError(`GET /health/ready answered ${answer.status}`);
  const r = ReadySchema.safeParse(answer.body);
  if (!r.success) throw new ApiUnreachableError(`unexpected answer from GET /health/ready (${answer.status})`);
  const ready = answer.status === 200 && r.data.ready;
  return { ready, role: r.data.role ?? '', blocking: r.data.parts.filter((p) => !p.ready && p.required !== false).map((p) => p.name), latencyMs: answer.latencyMs };
}

export async function checkHealth(argv: readonly string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  let url: string | undefined;
  try {
    const { values } = parseArgs({ args: [...argv], options: { url: { type: 'string' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false });
    if (values.help) {
      out(USAGE);
      return EXIT_HEALTHY;
    }
    url = values.url;
  } catch (e) {
    out(`${errorMessage(e)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const base = (url ?? env.SAMACONSO_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  let session: Session | undefined;
  try {
    session = await signIn(base, env);
    const auth = { headers: { authorization: `Bearer ${session.token}` } };
    const [nodes, trees, queues, ready] = await Promise.all([
      call(`${base}/admin/nodes`, auth).then((a) => parsed('/admin/nodes', a, NodesSchema)),
      call(`${base}/admin/supervisors`, auth).then((a) => parsed('/admin/supervisors', a, TreesSchema)),
      // The management API away (503): the queues are judged from the nodes' trees, and the rows say so.
      call(`${base}/admin/queues`, auth).then((a) => (a.status === 503 ? a : parsed('/admin/queues', a, QueuesSchema))),
      readiness(base),
    ]);
    const counted: QueueView[] | undefined = 'queues' in queues ? queues.queues : undefined;
    if (!counted) out(`note: GET /admin/queues answered 503; queue consumers counted from the nodes' trees`);
    const health = assessCluster({ nodes: nodes.nodes, trees: trees.nodes, queues: counted, ready });
    out(renderTable(health.rows));
    out('');
    if (health.problems.length === 0) {
      out(`healthy: ${nodes.nodes.length} node(s), every required part up, every priority queue consumed or paused`);
      return EXIT_HEALTHY;
    }
    for (const p of health.problems) out(`PROBLEM ${p}`);
    return EXIT_UNHEALTHY;
  } catch (e) {
    if (e instanceof CheckUsageError) {
      out(e.message);
      return EXIT_USAGE;
    }
    if (e instanceof ApiUnreachableError) {
      out(e.message);
      return EXIT_UNREACHABLE;
    }
    throw e;
  } finally {
    await session?.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await checkHealth(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`));
}
