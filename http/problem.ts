// Turns any thrown value into an RFC 9457 problem; the status comes from the one table in src/errors/error-codes.ts.
import { STATUS_CODES } from 'node:http';
import { ValidationError, isAppError, type ProblemField } from '../src/errors/app-error.js';
import { ERROR_STATUS, type ErrorCode } from '../src/errors/error-codes.js';
import { MethodNotAllowedError, NotReadyError, UnauthenticatedError, UpgradeRequiredError, type PartStatus } from './http-errors.js';

/** The code of an error nobody typed: always a 500. */
export const INTERNAL_CODE = 'INTERNAL';

/** The JSON body of a problem response. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode | typeof INTERNAL_CODE;
  readonly detail: string;
  readonly requestId: string;
  readonly fields?: readonly ProblemField[];
  readonly parts?: readonly PartStatus[];
}

export interface Problem {
  readonly status: number;
  readonly body: ProblemBody;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error is unexpected (not an AppError): log it with its stack. */
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
  const status = known ? ERROR_STATUS[error.code] : 500;
  // Messages of typed errors are written for clients; an untyped error may carry internals.
  const detail = known ? error.message : GENERIC_DETAIL;

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
  return { status, body, headers, unexpected: !known };
}
