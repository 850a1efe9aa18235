// The live bus's interface: how a new inbox entry or an ended session written in one process reaches the processes
// holding the users' WebSockets. Best effort: the inbox in PostgreSQL is the record, so a publish is never queued.
import { AppError } from '../../errors/app-error.js';
import type { Logger } from '../../logger.js';
import type { LiveBusStats } from '../../contracts/live-messages.js';
import type { LiveEvent } from './live-event.js';

export interface LiveBusStatus {
  readonly up: boolean;
  /** Why it is down (absent when up). */
  readonly detail?: string;
}

export interface LiveBus {
  /** Resolves once the event left for every subscriber; rejects at once (LiveBusUnavailableError) while down. */
  publish(event: LiveEvent): Promise<void>;
  /** Every valid event from any process, this one included; returns the unsubscribe function. */
  subscribe(listener: (e: LiveEvent) => void): () => void;
  /** Up/down transitions (the hub reports them as its status); returns the unsubscribe function. */
  onStatus(listener: (s: LiveBusStatus) => void): () => void;
  stats(): LiveBusStats;
  close(): Promise<void>;
  /** Both publishing and receiving work now. */
  readonly isUp: boolean;
}

/** A publish that could not be handed to the bus: the event is not delivered live (the inbox still has it). */
export class LiveBusUnavailableError extends AppError {
  readonly code = 'LIVE_BUS_UNAVAILABLE';
}

/** Calls each listener, containing its errors: one bad listener must not starve the others. */
export function notifyListeners<T>(listeners: ReadonlySet<(v: T) => void>, value: T, log: Logger | undefined): void {
  for (const l of [...listeners]) {
    try {
      l(value);
    } catch (e) {
      log?.error({ err: e }, 'live bus listener threw');
    }
  }
}
