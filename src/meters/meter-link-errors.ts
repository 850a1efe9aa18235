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
