// The SIC registration outbox (0015_meter_links.sql): a meter whose link becomes active is queued once for SIC's
// compteurs_app_mobile, in the transaction that activates the link, and registered by the registrar until SIC accepts.
import type { MeterKind } from '../contracts/meters-messages.js';
import type { Queryable } from './meter-access.js';

/** Queues the meter for registration in SIC; a meter already queued or registered is left as it is. */
export async function queueSicRegistration(client: Queryable, meter: { kind: MeterKind; meter: string }, at: Date): Promise<void> {
  await client.query(
    `INSERT INTO sic_registrations (kind, meter, created_at, next_attempt_at) VALUES ($1, $2, $3, $3) ON CONFLICT (kind, meter) DO NOTHING`,
    [meter.kind, meter.meter, at],
  );
}
