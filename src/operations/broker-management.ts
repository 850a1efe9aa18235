// RabbitMQ's management HTTP API, read-only: each queue's depth (ready, unacknowledged), its publish / deliver / ack
// rates and its consumers, from the broker's own counters (AMQP's checkQueue has only ready messages and consumers).
// TLS is verified as any fetch does; nothing here turns verification off.
import { ServiceUnavailableError } from '../errors/app-error.js';
import type { BrokerManagementConfig } from '../config/broker.js';

/** The management API is not configured, cannot be reached, or refused the request. */
export class BrokerManagementUnavailableError extends ServiceUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('broker-management', message, 5_000, 'BROKER_MANAGEMENT_UNAVAILABLE', options);
  }
}

export interface QueueCounters {
  readonly name: string;
  readonly ready: number;
  readonly unacked: number;
  readonly consumers: number;
  /** Messages per second over the management plugin's last sample. */
  readonly publishRate: number;
  readonly deliverRate: number;
  readonly ackRate: number;
  /** Totals since the queue's counters started. */
  readonly published: number;
  readonly delivered: number;
  readonly acked: number;
}

export interface BrokerManagement {
  /** The counters of the named queues of the vhost; a queue the broker does not know is left out. */
  queues(names: readonly string[]): Promise<QueueCounters[]>;
}

interface RawStats {
  readonly [key: string]: number | { rate?: number } | undefined;
}

interface RawQueue {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: RawStats;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const rate = (stats: RawStats | undefined, key: string): number => num((stats?.[`${key}_details`] as { rate?: number } | undefined)?.rate);

export function toQueueCounters(q: RawQueue): QueueCounters {
  const s = q.message_stats;
  return {
    name: q.name,
    ready: num(q.messages_ready),
    unacked: num(q.messages_unacknowledged),
    consumers: num(q.consumers),
    publishRate: rate(s, 'publish'),
    deliverRate: rate(s, 'deliver_get'),
    ackRate: rate(s, 'ack'),
    published: num(s?.['publish']),
    delivered: num(s?.['deliver_get']),
    acked: num(s?.['ack']),
  };
}

/** One node's answer: the rows, or why it gave none (`answered`: it did answer, with an HTTP error). */
type NodeAnswer = { readonly rows: RawQueue[] } | { readonly failure: string; readonly answered: boolean };

async function askNode(base: string, vhost: string, auth: string, timeoutMs: number): Promise<NodeAnswer> {
  const columns = 'name,messages_ready,messages_unacknowledged,consumers,message_stats';
  const url = `${base}/api/queues/${encodeURIComponent(vhost)}?columns=${columns}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Basic ${auth}`, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return { failure: 'cannot be reached', answered: false };
  }
  if (!res.ok) {
    await res.body?.cancel();
    // A node still booting, or out of the cluster, answers 5xx: another may answer. A 4xx is the same on every node.
    return { failure: `answered ${res.status}`, answered: res.status < 500 };
  }
  try {
    return { rows: (await res.json()) as RawQueue[] };
  } catch {
    return { failure: 'answered something that is not JSON', answered: false };
  }
}

/**
 * A client over fetch with a deadline per request and per node. With several nodes (RABBITMQ_MANAGEMENT_URL as a
 * list) it asks the one that answered last first and the others in turn when that one does not answer, so a killed
 * node costs one timeout, once.
 */
export function brokerManagement(config: BrokerManagementConfig | undefined, options: { timeoutMs?: number } = {}): BrokerManagement {
  const timeoutMs = options.timeoutMs ?? 3_000;
  let preferred = 0;
  return {
    async queues(names) {
      if (!config || config.urls.length === 0) throw new BrokerManagementUnavailableError('RABBITMQ_MANAGEMENT_URL is not configured.');
      const auth = Buffer.from(`${config.user}:${config.password}`, 'utf8').toString('base64');
      const failures: string[] = [];
      let rows: RawQueue[] | undefined;
      for (let i = 0; i < config.urls.length && !rows; i++) {
        const at = (preferred + i) % config.urls.length;
        const answer = await askNode(config.urls[at]!, config.vhost, auth, timeoutMs);
        if ('rows' in answer) {
          rows = answer.rows;
          preferred = at;
        } else {
          failures.push(config.urls.length === 1 ? answer.failure : `${new URL(config.urls[at]!).host} ${answer.failure}`);
          if (answer.answered) break;
        }
      }
      if (!rows) throw new BrokerManagementUnavailableError(`The broker management API ${failures.join('; ')}.`);
      const wanted = new Set(names);
      const byName = new Map(rows.filter((r) => wanted.has(r.name)).map((r) => [r.name, toQueueCounters(r)]));
      return names.flatMap((n) => byName.get(n) ?? []);
    },
  };
}
