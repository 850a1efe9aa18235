// The message broker: RabbitMQ (AMQP_URL), or the in-process broker of the demo; retry tiers and the delivery limit.
import { z } from 'zod';
import { int, optionalUrl } from './env-fields.js';

export const brokerEnv = z.object({
  AMQP_URL: optionalUrl(['amqp', 'amqps']),
  BROKER_RETRY_TIERS_MS: z
    .string()
    .default('1000,10000,60000')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .refine((a) => a.length > 0 && a.every((n) => Number.isInteger(n) && n > 0), { message: 'must be a comma list of positive integers (milliseconds)' }),
  BROKER_DELIVERY_LIMIT: int(5, 0, 1_000),
  /** RabbitMQ's management HTTP API (queue depths, rates, consumers for /admin/queues); its TLS is always verified. */
  RABBITMQ_MANAGEMENT_URL: optionalUrl(['http', 'https']),
  /** Its user and password: from the environment only, never in the repository. */
  RABBITMQ_MANAGEMENT_USER: z.string().optional(),
  RABBITMQ_MANAGEMENT_PASSWORD: z.string().optional(),
});

export interface BrokerConfig {
  url: string | undefined;
  retryTiersMs: number[];
  deliveryLimit: number;
  /** The management API, when configured; the vhost is AMQP_URL's. */
  management: BrokerManagementConfig | undefined;
}

export interface BrokerManagementConfig {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
}

/** The vhost an AMQP URL names: its path, '/' when it names none. */
export function vhostOf(amqpUrl: string | undefined): string {
  if (!amqpUrl) return '/';
  const path = new URL(amqpUrl).pathname.slice(1);
  return path === '' ? '/' : decodeURIComponent(path);
}

export function brokerConfig(e: z.infer<typeof brokerEnv>): BrokerConfig {
  const management = e.RABBITMQ_MANAGEMENT_URL
    ? { url: e.RABBITMQ_MANAGEMENT_URL.replace(/\/+$/, ''), user: e.RABBITMQ_MANAGEMENT_USER ?? '', password: e.RABBITMQ_MANAGEMENT_PASSWORD ?? '', vhost: vhostOf(e.AMQP_URL) }
    : undefined;
  return { url: e.AMQP_URL, retryTiersMs: e.BROKER_RETRY_TIERS_MS, deliveryLimit: e.BROKER_DELIVERY_LIMIT, management };
}
