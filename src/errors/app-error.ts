// The base of every typed error: a stable `code` callers branch on, facts as readonly fields.
// The codes and their HTTP statuses are one table (error-codes.ts); http/problem.ts answers with it.
import type { ErrorCode } from './error-codes.js';

export interface ProblemField {
  /** Dotted path of the offending field, e.g. `body.reason` or `query.limit`. */
  readonly path: string;
  readonly message: string;
}

export abstract class AppError extends Error {
  /** Stable machine-readable code; never changes once published. Only codes with a status type-check. */
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input does not match the contract; `fields` names each offending field. */
export class ValidationError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly fields: readonly ProblemField[], message = 'The request is not valid.') {
    super(message);
  }
}

/** A dependency (database, directory, broker …) cannot serve now; retry later. */
export class ServiceUnavailableError extends AppError {
  readonly code: ErrorCode;
  constructor(
    readonly service: string,
    message: string,
    readonly retryAfterMs?: number,
    code: ErrorCode = 'SERVICE_UNAVAILABLE',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** The thrown value as an Error (a thrown string or object is wrapped), for reply channels that take an Error. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function errorCode(e: unknown): string | undefined {
  if (e instanceof AppError) return e.code;
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}
