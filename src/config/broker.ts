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
});

export interface BrokerConfig {
  url: string | undefined;
  retryTiersMs: number[];
  deliveryLimit: number;
}

export function brokerConfig(e: z.infer<typeof brokerEnv>): BrokerConfig {
  return { url: e.AMQP_URL, retryTiersMs: e.BROKER_RETRY_TIERS_MS, deliveryLimit: e.BROKER_DELIVERY_LIMIT };
}
