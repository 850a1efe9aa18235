// Typed errors the HTTP layer raises itself; src/errors/error-codes.ts gives their codes a status.
import { AppError } from '../src/errors/app-error.js';
import type { ActorState } from '../src/contracts/supervision.js';

/** No route matches the path, or the addressed resource does not exist. */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
}

/** The path exists but not for this method; `allowed` feeds the Allow header. */
export class MethodNotAllowedError extends AppError {
  readonly code = 'METHOD_NOT_ALLOWED';
  constructor(readonly method: string, readonly allowed: readonly string[]) {
    super(`${method} is not allowed here; use ${allowed.join(', ')}.`);
  }
}

/** A plain HTTP request on a WebSocket-only path. */
export class UpgradeRequiredError extends AppError {
  readonly code = 'UPGRADE_REQUIRED';
  constructor(path: string) {
    super(`${path} is a WebSocket: open it with an Upgrade: websocket request and a bearer token.`);
  }
}

/** No bearer token, or one that is malformed, expired, for another audience or signed by an unknown key. */
export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  /** `missing` when no token was presented: RFC 6750 then says not to send an error code. */
  constructor(readonly reason: 'missing' | 'invalid', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** The WWW-Authenticate challenge (RFC 6750 §3). */
  get challenge(): string {
    return this.reason === 'missing' ? 'Bearer realm="samaconso"' : 'Bearer realm="samaconso", error="invalid_token"';
  }
}

/** The caller is authenticated but their role may not use this route. */
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
}

/** The body announced JSON but does not parse (or is not an object or array). */
export class MalformedJsonError extends AppError {
  readonly code = 'MALFORMED_JSON';
}

/** The body is larger than config.http.jsonBodyLimit. */
export class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(readonly limit: string) {
    super(`The request body is larger than ${limit}.`);
  }
}

/** The client stopped sending the file mid-way: the upload is abandoned (and aborted in storage) rather than held. */
export class UploadStalledError extends AppError {
  readonly code = 'REQUEST_TIMEOUT';
  constructor(readonly idleMs: number) {
    super(`Nothing of the file arrived for ${idleMs} ms: the upload was abandoned; send the request again.`);
  }
}

/** A JSON route got a body of another media type (or an unsupported content encoding). */
export class UnsupportedMediaTypeError extends AppError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

/** How one part of the process stands, as the readiness problem reports it. */
export interface PartStatus {
  readonly name: string;
  readonly ready: boolean;
  /** A required part not ready makes the process unready; an optional one only degrades it. */
  readonly required?: boolean;
  readonly state?: ActorState;
  readonly detail?: string;
}

/** The process cannot serve yet (or any more); `parts` says which parts and why. */
export class NotReadyError extends AppError {
  readonly code = 'NOT_READY';
  constructor(readonly parts: readonly PartStatus[], options?: { cause?: unknown }) {
    const blocking = parts.filter((p) => !p.ready && p.required !== false).map((p) => p.name);
    super(`Not ready: ${blocking.join(', ') || 'no part reported'}.`, options);
  }
}

/** A multipart body we cannot take: malformed, a field after the file, a second file, too many or too long parts. */
export class MultipartInvalidError extends AppError {
  readonly code = 'MULTIPART_INVALID';
}
