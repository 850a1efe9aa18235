// Turns any thrown value into an RFC 9457 problem; the status comes from the one table in src/errors/error-codes.ts.
import { STATUS_CODES } from 'node:http';
import { ValidationError, isAppError, type AppError, type ProblemField } from '../src/errors/app-error.js';
import { ERROR_STATUS, type ErrorCode } from '../src/errors/error-codes.js';
import { NodeNotFoundError, NodeTimeoutError } from '../src/errors/control-errors.js';
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
  /** NODE_NOT_FOUND, NODE_TIMEOUT: the node addressed. */
  readonly node?: string;
}

export interface Problem {
  readonly status: number;
  readonly body: ProblemBody;
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error is unexpected (not an AppError): log it with its stack. */
  readonly unexpected: boolean;
}

const GENERIC_DETAIL = 'The server could not complete the request. Quote the request id when reporting it.';

/** What a client reads of a server-side failure: the code names it; the message (hosts, ports, a driver's words) is only logged. */
const SERVER_SIDE_DETAIL: Readonly<Record<number, string>> = {
  502: 'A service this request needs refused or failed it; try again later.',
  503: 'A part this request needs is unavailable right now; try again later.',
  504: 'A part this request needs did not answer in time; try again later.',
};

/** A stable, non-dereferenceable problem type per code (RFC 9457 §3.1.1 allows URNs). */
export function problemType(code: string): string {
  return `urn:samaconso:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

export function toProblem(error: unknown, requestId: string): Problem {
  const known = isAppError(error);
  const code = known ? error.code : INTERNAL_CODE;
  const status = known ? ERROR_STATUS[error.code] : 500;
  const detail = known ? clientDetail(error, status) : GENERIC_DETAIL;

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
    ...(error instanceof ValidationError ? { fields: error.fields } : status < 500 ? fieldsOf(error) : {}),
    ...(error instanceof NotReadyError ? { parts: error.parts } : {}),
    // The control plane's errors name the node, so on-call knows which process to look at.
    ...(error instanceof NodeTimeoutError || error instanceof NodeNotFoundError ? { node: error.node } : {}),
  };
  return { status, body, headers, unexpected: !known };
}

/** Below 500 a typed error's message is written for the client; above, only NOT_READY's is (it names parts, nothing more). */
function clientDetail(error: AppError, status: number): string {
  if (status < 500 || error instanceof NotReadyError || error instanceof NodeTimeoutError) return error.message;
  return SERVER_SIDE_DETAIL[status] ?? GENERIC_DETAIL;
}

/** The fields a typed client error other than a validation one names (a conflict between what was sent and what is stored); a server-side error's never reach the client. */
function fieldsOf(error: unknown): { fields?: readonly ProblemField[] } {
  const fields = isAppError(error) ? (error as { fields?: unknown }).fields : undefined;
  return Array.isArray(fields) ? { fields: fields as ProblemField[] } : {};
}
