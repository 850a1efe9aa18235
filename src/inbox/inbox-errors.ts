// Typed errors of the inbox (statuses: src/errors/error-codes.ts).
import { AppError } from '../errors/app-error.js';

/** No such inbox item, or not one of the caller's (the same answer: no reading by guessing ids). 404. */
export class InboxItemNotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor() {
    super('No such notification in your inbox.');
  }
}
