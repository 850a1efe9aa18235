// The meter links' errors: each maps to its status in src/errors/error-codes.ts.
import { AppError } from '../errors/app-error.js';

/** No such link for this caller: the same answer whether the id is unknown or the link belongs to someone else. */
export class MeterLinkNotFoundError extends AppError {
  readonly code = 'METER_LINK_NOT_FOUND';
  constructor() {
    super('No such meter link.');
  }
}

/** The caller's link, asked for what its kind has not: bills of a prepaid meter, purchases of a postpaid one. */
export class MeterKindMismatchError extends AppError {
  readonly code = 'METER_KIND_MISMATCH';
  constructor(kind: 'prepaid' | 'postpaid', wanted: string) {
    super(`This meter is ${kind}: it has no ${wanted}.`);
  }
}

/** No meter with this number in the utility's data: prepaid customers (SIC) or postpaid contract accounts. */
export class MeterNotFoundError extends AppError {
  readonly code = 'METER_NOT_FOUND';
  constructor(kind: 'prepaid' | 'postpaid') {
    super(kind === 'prepaid' ? 'No prepaid meter with this number.' : 'No postpaid contract account with this number.');
  }
}

/** The user already has a live (pending or active) link to this meter. */
export class MeterAlreadyLinkedError extends AppError {
  readonly code = 'METER_ALREADY_LINKED';
  constructor() {
    super('This meter is already linked to your account, or waiting for approval.');
  }
}

/** Approve or reject a link that is no longer waiting: decided already, or ended. */
export class MeterLinkNotPendingError extends AppError {
  readonly code = 'METER_LINK_NOT_PENDING';
  constructor() {
    super('This meter link is not waiting for a decision.');
  }
}
