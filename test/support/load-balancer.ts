// HAProxy in front of API processes, for the scale-out tests: it runs the deployment's own file
// (ops/deploy/haproxy/haproxy.cfg) in the foreground, with the servers' addresses from the environment, and reads
// its view back over the admin socket (server states) and its request log (which server answered what).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { waitFor } from './wait.js';

const CONFIG = new URL('../../ops/deploy/haproxy/haproxy.cfg', import.meta.url).pathname;
const HAPROXY = '/usr/sbin/haproxy';

/** The config's four servers: two hosts, each with a blue and a green colour. */
export type ServerName = 'api1-blue' | 'api1-green' | 'api2-blue' | 'api2-green';

export interface ServerState {
  readonly name: string;
  /** HAProxy's word: UP, DOWN, MAINT, "UP 1/2" while a check is moving … */
  readonly status: string;
  /** Requests the server was given (HAProxy's stot). */
  readonly sessions: number;
}

/** One request as HAProxy logged it (option httplog). */
export interface LoggedRequest {
  readonly server: string;
  /** The status sent to the client; -1 when none was (HAProxy closed the client's connection). */
  readonly status: number;
  /** HAProxy's termination state: "--" for a normal end, "SH"/"SD" when the server went away mid-request … */
  readonly termination: string;
  readonly method: string;
  readonly path: string;
}

export interface LoadBalancer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  servers(): Promise<ServerState[]>;
  /** Waits until HAProxy's checks see the server in the given state (UP or DOWN). */
  awaitServer(name: ServerName, state: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  /** Every request logged so far. */
  requests(): LoggedRequest[];
  close(): Promise<void>;
}

/** Starts HAProxy with `servers` (host:port each; a server left out points at a closed port and stays DOWN). */
export async function startLoadBalancer(servers: Partial<Record<ServerName, string>>, options: { checkInterval?: string } = {}): Promise<LoadBalancer> {
  const dir = mkdtempSync(join(tmpdir(), 'samaconso-lb-'));
  const socket = join(dir, 'admin.sock');
  const port = await freePort();
  const closed = `127.0.0.1:${await freePort()}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HAPROXY_ADMIN_SOCKET: socket,
    LB_BIND: `127.0.0.1:${port}`,
    LB_CHECK_INTER: options.checkInterval ?? '300ms',
    LB_MAXCONN: '2000',
    API1_BLUE: servers['api1-blue'] ?? closed,
    API1_GREEN: servers['api1-green'] ?? closed,
    API2_BLUE: servers['api2-blue'] ?? closed,
    API2_GREEN: servers['api2-green'] ?? closed,
  };
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const logged: LoggedRequest[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const request = parseLogLine(line);
      if (request) logged.push(request);
      else out += `${line}\n`;
    }
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const servers_ = async (): Promise<ServerState[]> => parseStat(await adminCommand(socket, 'show stat'));
  try {
    await waitFor('HAProxy listening', async () => {
      if (gone) throw new Error(`HAProxy exited:\n${out}`);
      return (await servers_().catch(() => [])).length > 0;
    }, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    servers: servers_,
    async awaitServer(name, state, timeoutMs = 15_000) {
      await waitFor(`HAProxy sees ${name} ${state}`, async () => (await servers_()).find((s) => s.name === name)?.status === state, timeoutMs);
    },
    requests: () => [...logged],
    async close() {
      if (!gone) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One command on HAProxy's admin socket; resolves with its whole answer. */
function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const conn = createConnection(socket, () => conn.end(`${command}\n`));
    conn.setTimeout(5_000, () => conn.destroy(new Error(`HAProxy admin socket: no answer to ${command}`)));
    conn.on('data', (d: Buffer) => (answer += d.toString()));
    conn.on('end', () => resolve(answer));
    conn.on('error', reject);
  });
}

/** `show stat` is CSV with a "# pxname,svname,…" header; the backend's servers are its rows. */
function parseStat(csv: string): ServerState[] {
  const [header, ...rows] = csv.trim().split('\n');
  if (!header?.startsWith('# ')) return [];
  const cols = header.slice(2).split(',');
  const at = (row: string[], col: string): string => row[cols.indexOf(col)] ?? '';
  return rows
    .map((r) => r.split(','))
    .filter((r) => at(r, 'pxname') === 'samaconso_api' && !['FRONTEND', 'BACKEND'].includes(at(r, 'svname')))
    .map((r) => ({ name: at(r, 'svname'), status: at(r, 'status'), sessions: Number(at(r, 'stot')) }));
}

// httplog: … frontend backend/server Tq/Tw/Tc/Tr/Ta status bytes - - TERM … "METHOD PATH HTTP/1.1"
const LOG_LINE = /samaconso_api\/(\S+) \S+ (-?\d+) \S+ \S+ \S+ (\S\S)\S* .*"(\S+) (\S+) HTTP/;

function parseLogLine(line: string): LoggedRequest | undefined {
  const m = LOG_LINE.exec(line);
  return m ? { server: m[1]!, status: Number(m[2]), termination: m[3]!, method: m[4]!, path: m[5]! } : undefined;
}
