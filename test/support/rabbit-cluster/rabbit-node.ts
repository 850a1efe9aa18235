// One RabbitMQ node of the test cluster, run inside its network namespace: its files (config, data, logs), the
// environment its scripts need (long node name, the cluster's shared Erlang cookie through HOME), booting it,
// waiting for it, SIGKILLing its VM, and running rabbitmqctl / rabbitmq-queues against it from its namespace.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NodeLink, namespacePids, processGone } from './network.js';

const BIN = '/usr/lib/rabbitmq/bin';
export const AMQP_PORT = 5672;
export const MANAGEMENT_PORT = 15672;
// The deployment's own settings (partition handling) are what the test cluster runs, so the test proves the file.
const DEPLOY_CONF = fileURLToPath(new URL('../../../ops/deploy/rabbitmq/rabbitmq.conf', import.meta.url));
// The deployment's watchdog for the Erlang global hang of RabbitMQ 3.10.8 (ops/RUNBOOK.md).
const GLOBAL_SYNC_WATCHDOG = fileURLToPath(new URL('../../../ops/deploy/rabbitmq/global-sync-watchdog.sh', import.meta.url));

export interface NodeFiles {
  /** The cluster's folder: HOME (with the shared .erlang.cookie) and the enabled plugins. */
  readonly clusterDir: string;
  readonly netTicktimeSeconds: number;
}

export class RabbitNode {
  /** rabbit@10.254.X.1N (a long name: the host part is the node's address). */
  readonly name: string;
  private readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly index: number,
    readonly link: NodeLink,
    files: NodeFiles,
  ) {
    this.name = `rabbit@${link.address}`;
    this.dir = join(files.clusterDir, `node-${index + 1}`);
    mkdirSync(join(this.dir, 'log'), { recursive: true });
    mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
    const conf = [
      readFileSync(DEPLOY_CONF, 'utf8').trimEnd(),
      '',
      '# The test node: listeners on its namespace address; clients come from the root namespace over the bridge.',
      `listeners.tcp.1 = ${link.address}:${AMQP_PORT}`,
      `management.tcp.ip = ${link.address}`,
      `management.tcp.port = ${MANAGEMENT_PORT}`,
      '',
    ].join('\n');
    writeFileSync(join(this.dir, 'rabbitmq.conf'), conf);
    // A low tick time: a cut link is noticed in seconds, not the default minute.
    writeFileSync(join(this.dir, 'advanced.config'), `[{kernel, [{net_ticktime, ${files.netTicktimeSeconds}}]}].\n`);
    this.env = {
      PATH: process.env.PATH,
      HOME: files.clusterDir,
      RABBITMQ_USE_LONGNAME: 'true',
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbitmq.pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(files.clusterDir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      // Not the machine's /etc/rabbitmq/rabbitmq-env.conf.
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
    };
  }

  get logFile(): string {
    return join(this.dir, 'log', `${this.name}.log`);
  }

  /** The last lines of the node's log, for a failed wait's message ('' when there is no log yet). */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Boots the VM (detached, in the namespace; its epmd starts there too) and waits until the app runs. */
  async boot(timeoutMs: number): Promise<void> {
    await this.inNamespace(join(BIN, 'rabbitmq-server'), ['-detached'], 30_000);
    await this.awaitStartup(timeoutMs);
  }

  /** Waits for the rabbit app to run; await_startup fails (69) until the node has registered with epmd. */
  async awaitStartup(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.ctl(['-q', 'await_startup', '--timeout', String(Math.max(5, Math.ceil((deadline - Date.now()) / 1000)))]);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`${this.name} did not start (log: ${this.logFile}): ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** The node's Erlang VM (beam.smp) in its namespace, if one runs. */
  async vmPid(): Promise<number | undefined> {
    for (const pid of await namespacePids(this.link.namespace)) {
      let comm = '';
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (comm.startsWith('beam') && !processGone(pid)) return pid;
    }
    return undefined;
  }

  /** SIGKILLs the VM and waits until it no longer runs; returns its pid. */
  async kill(): Promise<number> {
    const pid = await this.vmPid();
    if (pid === undefined) throw new Error(`${this.name} has no running VM to kill`);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    while (!processGone(pid)) {
      if (Date.now() > deadline) throw new Error(`${this.name}'s VM (pid ${pid}) survived SIGKILL`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return pid;
  }

  /** Whether the node's AMQP port accepts a TCP connection, tried from its own namespace (so also while cut off). */
  async acceptsAmqp(): Promise<boolean> {
    try {
      await this.inNamespace('bash', ['-c', `exec 3<>/dev/tcp/${this.link.address}/${AMQP_PORT}`], 15_000);
      return true;
    } catch {
      return false;
    }
  }

  /** rabbitmqctl -n <this node> …, run in its namespace (so it reaches the node even while the link is cut). */
  ctl(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    return this.inNamespace(join(BIN, 'rabbitmqctl'), ['-n', this.name, ...args], timeoutMs);
  }

  /** rabbitmq-queues -n <this node> … */
  queues(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    return this.inNamespace(join(BIN, 'rabbitmq-queues'), ['-n', this.name, ...args], timeoutMs);
  }

  /** One run of the deployment's global-sync watchdog on this node; what it printed ('' when it found nothing stuck). */
  async globalSyncWatchdog(): Promise<string> {
    return (await this.inNamespace(GLOBAL_SYNC_WATCHDOG, [this.name], 60_000, { RABBITMQCTL: join(BIN, 'rabbitmqctl') })).trim();
  }

  private inNamespace(cmd: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', this.link.namespace, cmd, ...args], { env: { ...this.env, ...env }, timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${cmd.split('/').pop()} ${args.join(' ')} failed: ${stderr.trim() || stdout.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }
}
