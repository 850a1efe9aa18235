// Every query from the HTTP layer carries a deadline: config.queryDeadlineMs unless the route asks for another.
import type { Gateway } from '../src/contracts/gateway.js';

export function withDefaultDeadline(gateway: Gateway, deadlineMs: number): Gateway {
  return {
    ask(actor, type, payload, options) {
      return gateway.ask(actor, type, payload, { ...options, deadlineMs: options?.deadlineMs ?? deadlineMs });
    },
  };
}
