// The live bus across processes: Redis pub/sub on one channel. While Redis is down a publish fails at once (no
// offline queue) and the caller goes on; the subscriber reconnects with backoff and subscribes again on each connection.
import { Redis } from 'ioredis';
import { backoffDelay, type BackoffPolicy } from '../../backoff.js';
import { errorMessage } from '../../errors/app-error.js';
import type { Logger } from '../../logger.js';
import { LiveBusUnavailableError, notifyListeners, type LiveBus, type LiveBusStatus } from './live-bus.js';
import type { LiveBusStats } from '../../contracts/live-messages.js';
import { parseLiveEvent, type LiveEvent } from './live-event.js';

export const LIVE_CHANNEL = 'samaconso:inbox-live';

export interface RedisLiveBusOptions {
  readonly url: string;
  /** @defaultValue LIVE_CHANNEL */
  readonly channel?: string;
  /** Bounds a PUBLISH on a connection that has not noticed it is dead yet. @defaultValue 500 */
  readonly commandTimeoutMs?: number;
  /** Delays between reconnect attempts. @defaultValue { minMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2 } */
  readonly reconnect?: Partial<BackoffPolicy>;
  /**
   * False for a process that only publishes (a worker): no subscriber connection, so it does not receive every
   * event of the deployment for nothing; `subscribe` is then refused. @defaultValue true
   */
  readonly receive?: boolean;
  readonly log?: Logger;
}

const RECONNECT: BackoffPolicy = { minMs: 100, maxMs: 5_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

/**
 * Two connections, as Redis requires: one in subscriber mode (it may run no other command) and one that
 * publishes. Neither queues commands while disconnected.
 */
export class RedisLiveBus implements LiveBus {
  private readonly channel: string;
  private readonly pub: Redis;
  private readonly sub: Redis | undefined;
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly statusListeners = new Set<(s: LiveBusStatus) => void>();
  private readonly log: Logger | undefined;
  private pubReady = false;
  private subscribed = false;
  private wasUp = false;
  private closed = false;
  private published = 0;
  private failed = 0;
  private received = 0;
  private malformed = 0;
  private lastError: string | null = null;

  constructor(options: RedisLiveBusOptions) {
    this.channel = options.channel ?? LIVE_CHANNEL;
    this.log = options.log;
    const reconnect = { ...RECONNECT, ...options.reconnect };
    const common = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: (times: number) => backoffDelay(reconnect, times - 1, Math.random()),
    };
    this.pub = new Redis(options.url, { ...common, commandTimeout: options.commandTimeoutMs ?? 500, connectionName: 'samaconso-live-pub' });
    // Subscribing is ours to do on every 'ready' (a new connection starts unsubscribed), so the moment the
    // bus counts as up is the moment the SUBSCRIBE was answered.
    this.sub = options.receive === false ? undefined : new Redis(options.url, { ...common, autoResubscribe: false, connectionName: 'samaconso-live-sub' });

    this.pub.on('ready', () => {
      this.pubReady = true;
      this.changed();
    });
    this.pub.on('close', () => {
      this.pubReady = false;
      this.changed('publisher connection closed');
    });
    this.pub.on('error', (e: unknown) => this.noteError(e));

    const sub = this.sub;
    if (!sub) return;
    sub.on('ready', () => {
      sub.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          this.changed();
        },
        (e: unknown) => {
          // The connection is not usable as a subscriber: drop it, the retry strategy reconnects.
          this.noteError(e);
          sub.disconnect(true);
        },
      );
    });
    sub.on('close', () => {
      this.subscribed = false;
      this.changed('subscriber connection closed');
    });
    sub.on('error', (e: unknown) => this.noteError(e));
    sub.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      const event = parseLiveEvent(text);
      if (!event) {
        this.malformed++;
        this.log?.warn({ channel, bytes: text.length }, 'malformed live event dropped');
        return;
      }
      this.received++;
      notifyListeners(this.listeners, event, this.log);
    });
  }

  get isUp(): boolean {
    return this.pubReady && (this.subscribed || !this.sub);
  }

  async publish(event: LiveEvent): Promise<void> {
    if (this.closed || this.pub.status !== 'ready') {
      this.failed++;
      throw new LiveBusUnavailableError(`live bus ${this.closed ? 'closed' : `not connected (${this.lastError ?? this.pub.status})`}`);
    }
    try {
      await this.pub.publish(this.channel, JSON.stringify(event));
      this.published++;
    } catch (e) {
      this.failed++;
      this.noteError(e);
      throw new LiveBusUnavailableError(`live event not published: ${errorMessage(e)}`, { cause: e });
    }
  }

  subscribe(listener: (e: LiveEvent) => void): () => void {
    if (!this.sub) throw new Error('this live bus only publishes (receive: false)');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (s: LiveBusStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  stats(): LiveBusStats {
    return { kind: 'redis', up: this.isUp, published: this.published, failed: this.failed, received: this.received, malformed: this.malformed, lastError: this.lastError };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.statusListeners.clear();
    await Promise.all(
      [this.pub, ...(this.sub ? [this.sub] : [])].map(async (r) => {
        r.removeAllListeners();
        r.on('error', () => undefined);
        await r.quit().catch(() => r.disconnect());
      }),
    );
  }

  private noteError(e: unknown): void {
    this.lastError = errorMessage(e);
  }

  /** Tells the status listeners when isUp flipped (not on every connection event). */
  private changed(reason?: string): void {
    const up = this.isUp;
    if (up === this.wasUp || this.closed) return;
    this.wasUp = up;
    if (up) this.log?.info({ channel: this.channel }, 'live bus up');
    else this.log?.warn({ channel: this.channel, reason, lastError: this.lastError }, 'live bus down');
    notifyListeners(this.statusListeners, up ? { up } : { up, detail: `Redis unreachable (${this.lastError ?? reason ?? 'disconnected'})` }, this.log);
  }
}
