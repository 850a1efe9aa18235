// A live bus the test switches up and down: what it publishes while up reaches its subscribers, as Redis would.
import { LiveBusUnavailableError, type LiveBus, type LiveBusStatus } from '../../src/adapters/live-bus/live-bus.js';
import type { LiveEvent } from '../../src/adapters/live-bus/live-event.js';

export class SwitchableBus implements LiveBus {
  readonly published: LiveEvent[] = [];
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly statusListeners = new Set<(s: LiveBusStatus) => void>();

  constructor(public isUp: boolean) {}

  publish(event: LiveEvent): Promise<void> {
    if (!this.isUp) return Promise.reject(new LiveBusUnavailableError('down'));
    this.published.push(event);
    this.deliver(event);
    return Promise.resolve();
  }
  /** An event as if another instance had published it. */
  deliver(event: LiveEvent): void {
    for (const l of this.listeners) l(event);
  }
  subscribe(l: (e: LiveEvent) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  onStatus(l: (s: LiveBusStatus) => void) {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }
  /** Goes up or down, telling the status listeners (a reconnect is `set(true)` again). */
  set(up: boolean): void {
    this.isUp = up;
    for (const l of this.statusListeners) l({ up });
  }
  stats() {
    return { kind: 'memory' as const, up: this.isUp, published: 0, failed: 0, received: 0, malformed: 0, lastError: null };
  }
  close() {
    return Promise.resolve();
  }
}
