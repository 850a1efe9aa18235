// The requests' errors: each maps to its status in src/errors/error-codes.ts.
import { AppError } from '../errors/app-error.js';

/** No such request for this caller: the same answer for an unknown id and a request the caller may not read. */
export class RequestNotFoundError extends AppError {
  readonly code = 'REQUEST_NOT_FOUND';
  constructor() {
    super('No such request.');
  }
}

/** The request has no attachment (none was sent, or it was deleted after its author's account was). */
export class RequestAttachmentNotFoundError extends AppError {
  readonly code = 'REQUEST_ATTACHMENT_NOT_FOUND';
  constructor() {
    super('This request has no attachment.');
  }
}

/**
 * The author's account was deleted after the token was issued (or while the request was being sent): a request filed
 * now would escape the deletion's anonymisation, so it is refused as a gone account's token is (401).
 */
export class RequestAuthorGoneError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  constructor() {
    super('This account no longer exists; sign in again.');
  }
}

/** The type is not in the request types list, or was withdrawn. */
export class RequestTypeUnknownError extends AppError {
  readonly code = 'REQUEST_TYPE_UNKNOWN';
  constructor(readonly type: string) {
    super(`"${type}" is not a request type you can file (GET /v1/reference/request-types lists them).`);
  }
}

/** The agency is not in the agencies list, or was withdrawn. */
export class RequestAgencyUnknownError extends AppError {
  readonly code = 'REQUEST_AGENCY_UNKNOWN';
  constructor(readonly agency: string) {
    super(`"${agency}" is not an agency you can address.`);
  }
}

/** The type is about a meter and the request names an agency instead of one of the caller's links. */
export class RequestNeedsMeterError extends AppError {
  readonly code = 'REQUEST_NEEDS_METER';
  constructor(readonly type: string) {
    super(`A "${type}" request is about one of your meters: give its linkId.`);
  }
}

/** The file is larger than the configured limit: nothing was stored. */
export class AttachmentTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super(`The file is larger than ${maxBytes} bytes.`);
  }
}

/** The file's content is none of the types taken (JPEG, PNG, WebP, HEIC, PDF): nothing was stored. */
export class AttachmentTypeRefusedError extends AppError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(found: string | undefined) {
    super(`The file must be a JPEG, PNG, WebP or HEIC image or a PDF; its content ${found ? `is ${found}` : 'is none of them'}.`);
  }
}

/** Only agents of the request's agency and admins change a request; a customer (even its author) is refused. */
export class RequestUpdateForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor() {
    super('Only the agents of the request\'s agency and admins change a request.');
  }
}
