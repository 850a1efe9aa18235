// The message broker: RabbitMQ (AMQP_URL, one node or a comma list of a cluster's nodes), or the in-process broker
// of the demo; retry tiers, the delivery limit, the quorum queues' initial group size and the management API.
import { z } from 'zod';
import { int, isSet } from './env-fields.js';
import { redactUrl } from './redact-url.js';

/** A comma list of URLs, each with one of the protocols; an item that is not is named (position, no password). */
const urlList = (protocols: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean))
    .superRefine((items, ctx) => {
      items.forEach((item, i) => {
        if (!protocols.some((p) => item.startsWith(`${p}://`)) || !URL.canParse(item)) {
          ctx.addIssue({ code: 'custom', message: `${itemName(items, i)} must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` });
        }
      });
    });

/** How a list item is named in a problem: its position, and the item without its password. */
function itemName(items: readonly string[], i: number): string {
  const item = items[i]!;
  const shown = URL.canParse(item) ? redactUrl(item) : item.includes('@') ? '(hidden: it may hold credentials)' : item;
  return items.length === 1 ? `"${shown}"` : `item ${i + 1} of ${items.length} ("${shown}")`;
}

export const brokerEnv = z.object({
  /** One node, or the nodes of a cluster (comma list): all on the same vhost. */
  AMQP_URL: urlList(['amqp', 'amqps']).superRefine((items, ctx) => {
    const vhosts = new Set(items.filter((u) => /^amqps?:\/\//.test(u) && URL.canParse(u)).map(vhostOf));
    if (vhosts.size > 1) {
      ctx.addIssue({ code: 'custom', message: `every node of the list must name the same vhost; found ${[...vhosts].map((v) => `"${v}"`).join(', ')}` });
    }
  }),
  /** Position (0-based) in AMQP_URL of the node tried first; unset: a random one, so processes spread over the nodes. */
  BROKER_FIRST_NODE: z.coerce.number().int().min(0).optional(),
  /** x-quorum-initial-group-size of the quorum queues this process creates; unset: RabbitMQ's default. */
  BROKER_QUORUM_GROUP_SIZE: z.coerce.number().int().min(1).max(99).optional(),
  BROKER_RETRY_TIERS_MS: z
    .string()
    .default('1000,10000,60000')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .refine((a) => a.length > 0 && a.every((n) => Number.isInteger(n) && n > 0), { message: 'must be a comma list of positive integers (milliseconds)' }),
  BROKER_DELIVERY_LIMIT: int(5, 0, 1_000),
  /** RabbitMQ's management HTTP API, one node's or a comma list (tried in turn); its TLS is always verified. */
  RABBITMQ_MANAGEMENT_URL: urlList(['http', 'https']),
  /** Its user and password: from the environment only, never in the repository. */
  RABBITMQ_MANAGEMENT_USER: z.string().optional(),
  RABBITMQ_MANAGEMENT_PASSWORD: z.string().optional(),
});

export interface BrokerConfig {
  /** The nodes to connect to (AMQP_URL); empty: the in-process broker. */
  urls: readonly string[];
  /** Position in `urls` of the node tried first; undefined: a random one. */
  firstNode: number | undefined;
  /** x-quorum-initial-group-size of the queues created; undefined: RabbitMQ's default. */
  quorumGroupSize: number | undefined;
  retryTiersMs: number[];
  deliveryLimit: number;
  /** The management API, when configured; the vhost is AMQP_URL's. */
  management: BrokerManagementConfig | undefined;
}

export interface BrokerManagementConfig {
  /** One per node, without a trailing slash: asked in turn until one answers. */
  readonly urls: readonly string[];
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

/** Rules across variables, on the raw environment. */
export function brokerProblems(raw: NodeJS.ProcessEnv): string[] {
  if (!isSet(raw, 'BROKER_FIRST_NODE')) return [];
  const nodes = (raw.AMQP_URL ?? '').split(',').filter((s) => s.trim() !== '').length;
  const first = Number(raw.BROKER_FIRST_NODE);
  return Number.isInteger(first) && first >= nodes
    ? [`BROKER_FIRST_NODE: ${first} is past the end of AMQP_URL's ${nodes} node${nodes === 1 ? '' : 's'} (positions start at 0)`]
    : [];
}

export function brokerConfig(e: z.infer<typeof brokerEnv>): BrokerConfig {
  const management =
    e.RABBITMQ_MANAGEMENT_URL.length > 0
      ? {
          urls: e.RABBITMQ_MANAGEMENT_URL.map((u) => u.replace(/\/+$/, '')),
          user: e.RABBITMQ_MANAGEMENT_USER ?? '',
          password: e.RABBITMQ_MANAGEMENT_PASSWORD ?? '',
          vhost: vhostOf(e.AMQP_URL[0]),
        }
      : undefined;
  return {
    urls: e.AMQP_URL,
    firstNode: e.BROKER_FIRST_NODE,
    quorumGroupSize: e.BROKER_QUORUM_GROUP_SIZE,
    retryTiersMs: e.BROKER_RETRY_TIERS_MS,
    deliveryLimit: e.BROKER_DELIVERY_LIMIT,
    management,
  };
}
