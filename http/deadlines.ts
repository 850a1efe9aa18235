// How long the HTTP layer waits on the actor system: config.queryDeadlineMs, unless the route is listed below.
import { CONTROL_COMMAND_TIMEOUT_MAX_MS } from '../src/config/instance.js';
import { LDAP_TIMEOUT_MAX_MS } from '../src/config/ldap.js';
import { sourceAskDeadlineMs } from '../src/config/sources.js';
import type { Gateway } from '../src/contracts/gateway.js';
import { SMS_SEND_DEADLINE_MS } from '../src/contracts/sms-messages.js';

/**
 * Routes that wait on the SMS gateway (with its retries) or the directory get more time than the default, so an
 * outage answers 503 from the service that knows, not 504 from the bridge: each stays above the inner bound.
 */
export const ROUTE_DEADLINES_MS = {
  /** register, pin-reset: an SMS is sent before the answer. */
  sms: SMS_SEND_DEADLINE_MS + 5_000,
  /** agent-login: the directory is asked before the answer. */
  directory: LDAP_TIMEOUT_MAX_MS + 5_000,
  /** /admin/dead-letters: up to 1000 messages fetched one by one on a private connection. */
  deadLetterBrowse: 30_000,
  /** One snapshot of GET /admin/events: its parts are asked side by side, 4 s each (8 s for the dead letters). */
  onCallSnapshot: 12_000,
  /** /admin/dead-letters/replay: up to 1000 messages, each republished and confirmed before its ack. */
  deadLetterReplay: 120_000,
  /**
   * Commands through the control plane (restart, pause, resume): the control-plane actor answers at its own timeout
   * (CONTROL_COMMAND_TIMEOUT_MS, naming the silent node) plus the registry read and the audit row; the bridge waits
   * above the largest it can be.
   */
  controlCommand: CONTROL_COMMAND_TIMEOUT_MAX_MS + 10_000,
} as const;

// What a meter-data read spends before and beside its source: the link's check in PostgreSQL (its handle lent within
// 1 s by src/resources.ts, the lookup itself a primary-key read) and the cache's lend (1 s in the reader).
const SOURCE_READ_MARGIN_MS = 2_000;

/**
 * The deadline of the routes that read the utility's sources (meter data), derived from SQL_QUERY_TIMEOUT_MS: the
 * reader (src/customer-data/customer-data-reader.ts) gives a source `sourceAskDeadlineMs` (src/config/sources.ts), and
 * the route waits longer, so a slow source answers stale or 504 SOURCE_TIMEOUT from the
 * reader, which knows, rather than 504 QUERY_TIMEOUT from the bridge. Never below the default route deadline.
 */
export function sourceReadDeadlineMs(sourceQueryTimeoutMs: number, defaultDeadlineMs: number): number {
  return Math.max(defaultDeadlineMs, sourceAskDeadlineMs(sourceQueryTimeoutMs) + SOURCE_READ_MARGIN_MS);
}

/** The gateway the routes get: every query carries the route's deadline, else the configured default. */
export function withDefaultDeadline(gateway: Gateway, deadlineMs: number): Gateway {
  return {
    ask(actor, type, payload, options) {
      return gateway.ask(actor, type, payload, { ...options, deadlineMs: options?.deadlineMs ?? deadlineMs });
    },
  };
}

// The upload's deadline lives with the requests' configuration, which checks the sweep age against it.
export { UPLOAD_MIN_BYTES_PER_S, uploadDeadlineMs } from '../src/config/requests.js';
