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

/** A client over fetch with a deadline per request. */
export function brokerManagement(config: BrokerManagementConfig | undefined, options: { timeoutMs?: number } = {}): BrokerManagement {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    async queues(names) {
      if (!config) throw new BrokerManagementUnavailableError('RABBITMQ_MANAGEMENT_URL is not configured.');
      const columns = 'name,messages_ready,messages_unacknowledged,consumers,message_stats';
      const url = `${config.url}/api/queues/${encodeURIComponent(config.vhost)}?columns=${columns}`;
      const auth = Buffer.from(`${config.user}:${config.password}`, 'utf8').toString('base64');
      let res: Response;
      try {
        res = await fetch(url, { headers: { authorization: `Basic ${auth}`, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        throw new BrokerManagementUnavailableError('The broker management API cannot be reached.', { cause: e });
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new BrokerManagementUnavailableError(`The broker management API answered ${res.status}.`);
      }
      const rows = (await res.json()) as RawQueue[];
      const wanted = new Set(names);
      const byName = new Map(rows.filter((r) => wanted.has(r.name)).map((r) => [r.name, toQueueCounters(r)]));
      return names.flatMap((n) => byName.get(n) ?? []);
    },
  };
}
