// Typed errors of accepting and reading notification jobs (statuses: src/errors/error-codes.ts).
import { AppError } from '../errors/app-error.js';

/** The caller may not send this (target outside their agency, everyone/all agencies, a raised priority). 403. */
export class NotificationForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor(
    /** What was refused, for logs and tests: `target`, `priority` or `role`. */
    readonly rule: 'target' | 'priority' | 'role',
    message: string,
  ) {
    super(message);
  }
}

/** The idempotency key was used by this caller for another request. 409. */
export class IdempotencyConflictError extends AppError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly jobId: string) {
    super('This idempotency key was already used for a different request.');
  }
}

/** No such job, or not one this caller may see (the same answer: no reading by guessing ids). 404. */
export class NotificationJobNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor() {
    super('No such notification job.');
  }
}
