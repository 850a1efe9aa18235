// How long the HTTP layer waits on the actor system: config.queryDeadlineMs, unless the route is listed below.
import type { Gateway } from '../src/contracts/gateway.js';

/**
 * Routes that wait on the SMS gateway (with its retries) or the directory get more time than the default, so an
 * outage answers 503 from the service that knows, not 504 from the bridge. They stay above the inner bounds: the
 * accounts service gives the SMS actor 30 s (src/accounts/account-factory.ts); LDAP_TIMEOUT_MS is at most 15 s.
 */
export const ROUTE_DEADLINES_MS = {
  /** register, pin-reset: an SMS is sent before the answer. */
  sms: 35_000,
  /** agent-login: the directory is asked before the answer. */
  directory: 20_000,
} as const;

/** The gateway the routes get: every query carries the route's deadline, else the configured default. */
export function withDefaultDeadline(gateway: Gateway, deadlineMs: number): Gateway {
  return {
    ask(actor, type, payload, options) {
      return gateway.ask(actor, type, payload, { ...options, deadlineMs: options?.deadlineMs ?? deadlineMs });
    },
  };
}
