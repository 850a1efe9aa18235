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

/** No meter with this number (prepaid) or contract account (postpaid) in the utility's data. */
export class MeterNotFoundError extends AppError {
  readonly code = 'METER_NOT_FOUND';
  constructor() {
    super('No meter with this number in the utility\'s data.');
  }
}

/** The caller already has a pending or active link to this meter. */
export class MeterAlreadyLinkedError extends AppError {
  readonly code = 'METER_ALREADY_LINKED';
  constructor(readonly linkId: string | null) {
    super('This meter is already linked to your account (or your request is pending).');
  }
}

/** The link was decided already (or ended): only a pending link can be approved or rejected. */
export class MeterLinkNotPendingError extends AppError {
  readonly code = 'METER_LINK_NOT_PENDING';
  constructor() {
    super('This meter link is no longer waiting for a decision.');
  }
}

/** Only customers link meters: agents and admins act on links, they hold none. 403. */
export class MeterLinkForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor() {
    super('Only customers link meters.');
  }
}
