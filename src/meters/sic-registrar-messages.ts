// Messages of the sic-registrar actor, and the kick the meters flow sends after a link becomes active.
import type { Asker } from '../actor-behaviour.js';
import type { Reply } from '../contracts/reply.js';

export const SIC_REGISTRAR = 'sic-registrar';

/** The registrar's counters since this incarnation started, and the outbox rows not yet registered. */
export interface SicRegistrarStats {
  readonly state: 'idle' | 'draining' | 'backing-off';
  /** Rows of sic_registrations without registered_at (due now or waiting for their next attempt). */
  readonly pending: number;
  readonly registered: number;
  /** Registrations SIC refused or never answered (each is retried later). */
  readonly failures: number;
  readonly lastError: string | null;
}

export type SicRegistrarMessage =
  /** Drain now (told after a link became active): no reply. */
  | { type: 'kick' }
  | { type: 'stats'; replyTo: Reply<SicRegistrarStats> };

/**
 * Wakes the registrar once the transaction that queued a registration (queueSicRegistration) has committed, so the
 * meter reaches SIC without waiting for the next poll. Fire and forget: on a node without the registrar (no `sic`
 * source) the message is dropped, and the row waits for a registrar's poll.
 */
export function kickSicRegistrar(asker: Pick<Asker, 'ref'>): void {
  asker.ref<SicRegistrarMessage>(SIC_REGISTRAR).tell({ type: 'kick' });
}
