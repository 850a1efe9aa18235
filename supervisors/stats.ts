// Mutable per-child statistics, kept across restarts of the child and read by the registry.
import type { ActorState, ActorStats, LastError } from '../src/contracts/supervision.js';
import { errorCode, errorMessage } from '../src/errors/app-error.js';

export class StatsRecord {
  state: ActorState = 'starting';
  mailboxDepth = 0;
  handled = 0;
  crashes = 0;
  restarts = 0;
  detail: string | undefined;
  lastError: LastError | undefined;

  noteError(error: unknown, now: number): void {
    const code = errorCode(error);
    this.lastError = { message: errorMessage(error), ...(code ? { code } : {}), at: new Date(now).toISOString() };
  }

  snapshot(): ActorStats {
    return {
      state: this.state,
      mailboxDepth: this.mailboxDepth,
      handled: this.handled,
      crashes: this.crashes,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.detail ? { detail: this.detail } : {}),
    };
  }
}
