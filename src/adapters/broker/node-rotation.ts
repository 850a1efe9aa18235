// Which RabbitMQ node of AMQP_URL's list a client tries next, and after how long: written once for the work
// connection (amqp-broker.ts), the control bus (amqp-control-bus.ts) and the one-off connections of on-call tools.
import amqp, { type ChannelModel, type SocketOptions } from 'amqplib';
import { backoffDelay, type BackoffPolicy } from '../../backoff.js';
import { errorMessage } from '../../errors/app-error.js';

export interface NodeRotationOptions {
  /**
   * Position of the node tried first. @defaultValue a random one: the same list is in every host's environment, so
   * starting all processes on its first node would load that node with every connection of the fleet.
   */
  readonly first?: number | undefined;
  /** In [0, 1): the random start and the backoff's jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

/** What to do after a failure: try `url` (the next node) in `delayMs`. */
export interface NextAttempt {
  readonly url: string;
  readonly address: string;
  readonly delayMs: number;
  /** Failures in a row so far (since the last connection that held). */
  readonly failures: number;
}

/**
 * Round robin over the nodes. A failed attempt or a lost connection moves on to the next node AT ONCE while the
 * current round (one try of each node) is not over, and waits the backoff only after a full round failed: a dead
 * node never holds up the move to a live one, and a cluster that is wholly down is not hammered. The backoff grows
 * per failed round. A connection counts as good (the count starts again) only once it held `resetAfterMs`:
 * a node that accepts and then drops at once cannot drive a loop without delay.
 */
export class NodeRotation {
  private index: number;
  private failures = 0;
  private connectedAt: number | undefined;
  private readonly random: () => number;

  constructor(
    readonly urls: readonly string[],
    private readonly policy: BackoffPolicy,
    options: NodeRotationOptions = {},
  ) {
    if (urls.length === 0) throw new RangeError('at least one RabbitMQ node is needed');
    this.random = options.random ?? Math.random;
    const first = options.first ?? Math.floor(this.random() * urls.length);
    if (!Number.isInteger(first) || first < 0 || first >= urls.length) throw new RangeError(`first node ${first} is not a position in a list of ${urls.length}`);
    this.index = first;
  }

  /** The node to try now. */
  get url(): string {
    return this.urls[this.index]!;
  }

  /** host:port of the node to try now (no credentials). */
  get address(): string {
    return nodeAddress(this.url);
  }

  /** The attempt on the current node succeeded, at `now`. */
  connected(now: number): void {
    this.connectedAt = now;
  }

  /** The current node failed (the attempt, or the connection it gave) at `now`: the next node, and when to try it. */
  failed(now: number): NextAttempt {
    if (this.connectedAt !== undefined && now - this.connectedAt >= this.policy.resetAfterMs) this.failures = 0;
    this.connectedAt = undefined;
    this.failures++;
    this.index = (this.index + 1) % this.urls.length;
    const round = this.failures / this.urls.length;
    const delayMs = Number.isInteger(round) ? backoffDelay(this.policy, round - 1, this.random()) : 0;
    return { url: this.url, address: this.address, delayMs, failures: this.failures };
  }
}

/** host:port of an AMQP URL, the port defaulted by the scheme: what logs and readiness show of a node. */
export function nodeAddress(url: string): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'amqps:' ? '5671' : '5672');
  return `${u.hostname}:${port}`;
}

/** The URL with an AMQP heartbeat unless it names one: a silent dead peer (a cut link) is noticed in about twice it. */
export function withHeartbeat(url: string, seconds: number): string {
  const u = new URL(url);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
  return u.toString();
}

/**
 * One connection to the first node of the list that answers, in list order (on-call's one-off reads and replays);
 * rejects with every node's failure when none does.
 */
export async function connectToAny(urls: readonly string[], options: SocketOptions): Promise<ChannelModel> {
  const failures: string[] = [];
  for (const url of urls) {
    try {
      return await amqp.connect(url, options);
    } catch (error) {
      failures.push(`${nodeAddress(url)}: ${errorMessage(error)}`);
    }
  }
  throw new Error(`no RabbitMQ node answered (${failures.join('; ') || 'no node configured'})`);
}
