// The bus of a single process (the embedded demo: API and worker in one process, no Redis).
import type { Logger } from '../../logger.js';
import { LiveBusUnavailableError, notifyListeners, type LiveBus } from './live-bus.js';
import type { LiveBusStats } from '../../contracts/live-messages.js';
import { parseLiveEvent, type LiveEvent } from './live-event.js';

/**
 * Always up; events go through JSON and the same validation as Redis messages, and arrive asynchronously, as they
 * would from Redis.
 */
export class MemoryLiveBus implements LiveBus {
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private closed = false;
  private published = 0;
  private failed = 0;
  private received = 0;
  private malformed = 0;

  constructor(private readonly log?: Logger) {}

  get isUp(): boolean {
    return !this.closed;
  }

  publish(event: LiveEvent): Promise<void> {
    if (this.closed) {
      this.failed++;
      return Promise.reject(new LiveBusUnavailableError('live bus closed'));
    }
    const text = JSON.stringify(event);
    this.published++;
    queueMicrotask(() => this.deliver(text));
    return Promise.resolve();
  }

  /** Hands raw text to the subscribers as if it came from the channel (also how a test sends a malformed one). */
  deliver(text: string): void {
    if (this.closed) return;
    const event = parseLiveEvent(text);
    if (!event) {
      this.malformed++;
      this.log?.warn({ bytes: text.length }, 'malformed live event dropped');
      return;
    }
    this.received++;
    notifyListeners(this.listeners, event, this.log);
  }

  subscribe(listener: (e: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(): () => void {
    return () => undefined; // never changes until closed, and nobody needs to hear about a closed bus
  }

  stats(): LiveBusStats {
    return { kind: 'memory', up: this.isUp, published: this.published, failed: this.failed, received: this.received, malformed: this.malformed, lastError: null };
  }

  close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    return Promise.resolve();
  }
}
