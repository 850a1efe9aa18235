// Turns any thrown value into an RFC 9457 problem: the one table of error code → HTTP status lives here.
import { STATUS_CODES } from 'node:http';
import { ValidationError, isAppError, type ProblemField } from '../src/errors/app-error.js';
import { MethodNotAllowedError, NotReadyError, UnauthenticatedError, UpgradeRequiredError, type PartStatus } from './http-errors.js';

/** Error code → HTTP status. A code missing here is a 500. */
export const PROBLEM_STATUS: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_REFRESH_TOKEN: 401,
  INVALID_CODE: 400,
  PHONE_NOT_VERIFIED: 403,
  AGENT_WITHOUT_AGENCY: 403,
  PHONE_ALREADY_REGISTERED: 409,
  IDEMPOTENCY_CONFLICT: 409,
  ACCOUNT_LOCKED: 429,
  TOO_MANY_REQUESTS: 429,
  CODE_COOLDOWN: 429,
  SMS_BUDGET_EXCEEDED: 429,
  SMS_UNAVAILABLE: 503,
  SMS_REJECTED: 422,
  DIRECTORY_UNAVAILABLE: 503,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  SUPERVISOR_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPGRADE_REQUIRED: 426,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  QUERY_TIMEOUT: 504,
  ACTOR_RESTARTING: 503,
  ACTOR_STOPPED: 503,
  ACTOR_NOT_FOUND: 503,
  SERVICE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  DATABASE_BUSY: 503,
  SOURCE_UNAVAILABLE: 503,
  NOT_READY: 503,
};

export const INTERNAL_CODE = 'INTERNAL';

/** The JSON body of a problem response. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string;
  readonly fields?: readonly ProblemField[];
  readonly parts?: readonly PartStatus[];
}

export interface Problem {
  readonly status: number;
  readonly body: ProblemBody;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error is unexpected (an unknown error or an unmapped code): log it with its stack. */
  readonly unexpected: boolean;
}

const GENERIC_DETAIL = 'The server could not complete the request. Quote the request id when reporting it.';

/** A stable, non-dereferenceable problem type per code (RFC 9457 §3.1.1 allows URNs). */
export function problemType(code: string): string {
  return `urn:samaconso:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

export function toProblem(error: unknown, requestId: string): Problem {
  const known = isAppError(error);
  const code = known ? error.code : INTERNAL_CODE;
  const mapped = PROBLEM_STATUS[code];
  const status = mapped ?? 500;
  // Messages of mapped codes are written for clients; anything that ends as a 500 may carry internals.
  const detail = known && mapped !== undefined ? error.message : GENERIC_DETAIL;

  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  const retryAfterMs = known ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  if (typeof retryAfterMs === 'number' && retryAfterMs >= 0) headers['Retry-After'] = String(Math.ceil(retryAfterMs / 1000));
  if (error instanceof UnauthenticatedError) headers['WWW-Authenticate'] = error.challenge;
  if (error instanceof MethodNotAllowedError) headers.Allow = error.allowed.join(', ');
  if (error instanceof UpgradeRequiredError) {
    headers.Upgrade = 'websocket';
    headers.Connection = 'Upgrade';
  }

  const body: ProblemBody = {
    type: problemType(code),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    detail,
    requestId,
    ...(error instanceof ValidationError ? { fields: error.fields } : {}),
    ...(error instanceof NotReadyError ? { parts: error.parts } : {}),
  };
  return { status, body, headers, unexpected: mapped === undefined };
}
