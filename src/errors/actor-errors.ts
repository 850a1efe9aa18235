// Errors the actor runtime replies with, so a caller never waits for a timeout when the callee knows.
import { AppError } from './app-error.js';

/**
 * The actor restarted (or is waiting to restart) while the query was pending or being sent. `started`: whether its
 * handler had taken the query. One never started had no effect, so it is safe to send again once the actor is back
 * (the HTTP gateway does, src/waiting-out-restarts.ts); one started may have had part of its effect.
 */
export class ActorRestartingError extends AppError {
  readonly code = 'ACTOR_RESTARTING';
  constructor(readonly actor: string, readonly started = false) {
    super(started ? `actor ${actor} restarted while handling the query` : `actor ${actor} is restarting`);
  }
}

/** The actor was stopped (shutdown, or its supervisor gave up) while the query was pending. */
export class ActorStoppedError extends AppError {
  readonly code = 'ACTOR_STOPPED';
  constructor(readonly actor: string) {
    super(`actor ${actor} is stopped`);
  }
}

/** No actor of that name runs in this process (a dead letter). */
export class ActorNotFoundError extends AppError {
  readonly code = 'ACTOR_NOT_FOUND';
  constructor(readonly actor: string) {
    super(`no actor named ${actor}`);
  }
}

/** The actor's handler threw while handling this very message; it is being restarted. */
export class ActorCrashedError extends AppError {
  readonly code = 'ACTOR_CRASHED';
  constructor(readonly actor: string, cause: unknown) {
    super(`actor ${actor} crashed while handling the message`, { cause });
  }
}

/** The callee did not reply before the caller's deadline. */
export class QueryTimeoutError extends AppError {
  readonly code = 'QUERY_TIMEOUT';
  constructor(readonly actor: string, readonly messageType: string, readonly deadlineMs: number) {
    super(`query ${messageType} to ${actor} got no reply within ${deadlineMs} ms`);
  }
}

/** The on-call asked to restart a supervisor that does not run here (or, cluster-wide, on no alive node). */
export class SupervisorNotFoundError extends AppError {
  readonly code = 'SUPERVISOR_NOT_FOUND';
  constructor(readonly supervisor: string) {
    super(`no running supervisor named ${supervisor}`);
  }
}
