// How long the HTTP layer waits on the actor system: config.queryDeadlineMs, unless the route is listed below.
import { LDAP_TIMEOUT_MAX_MS } from '../src/config/ldap.js';
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
} as const;

/**
 * POST /v1/me/meters looks the meter up in SIC before it writes: the reader's ask may take two source deadlines and a
 * margin (2 × SQL_QUERY_TIMEOUT_MS + 1 s, CustomerDataReader), and the database work comes after. The route waits
 * past that, so a slow SIC answers the source's own 503/504, not the bridge's QUERY_TIMEOUT.
 */
export function meterLinkDeadlineMs(sourceQueryTimeoutMs: number): number {
  return 2 * sourceQueryTimeoutMs + 1_000 + 5_000;
}

/** The gateway the routes get: every query carries the route's deadline, else the configured default. */
export function withDefaultDeadline(gateway: Gateway, deadlineMs: number): Gateway {
  return {
    ask(actor, type, payload, options) {
      return gateway.ask(actor, type, payload, { ...options, deadlineMs: options?.deadlineMs ?? deadlineMs });
    },
  };
}
