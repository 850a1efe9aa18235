// What a failed storage call means: an outage (retry later), a missing object, the caller's abort, or a bug-class refusal.
import { AppError } from '../../errors/app-error.js';

/** The key has no object (get of a missing key). */
export class ObjectNotFoundError extends AppError {
  readonly code = 'OBJECT_NOT_FOUND';
  constructor(readonly key: string) {
    super('The stored file does not exist.');
  }
}

/**
 * Storage answered and refused (access denied, an invalid request, a missing bucket in production …): retrying will
 * not help, so it is not an outage and does not turn the objects actor to backing-off.
 */
export class StorageRequestError extends AppError {
  readonly code = 'STORAGE_REQUEST_FAILED';
  constructor(
    readonly operation: string,
    readonly s3Code: string | undefined,
    readonly httpStatus: number | undefined,
    options?: { cause?: unknown },
  ) {
    const facts = [s3Code, httpStatus === undefined ? undefined : `HTTP ${httpStatus}`].filter((f) => f !== undefined);
    super(`Storage refused ${operation}${facts.length ? ` (${facts.join(', ')})` : ''}.`, options);
  }
}

export type StorageFailure = 'outage' | 'not-found' | 'aborted' | 'refused';

/** Socket-level failures: the storage could not be reached or the connection died. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** S3's (and the SDK's) names for "slow down", which S3 may send as 503 or as 400-class throttles. */
const THROTTLING = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailable',
  'InternalError',
]);

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);

interface ErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly Code?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

const shape = (e: unknown): ErrorShape => (typeof e === 'object' && e !== null ? (e as ErrorShape) : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The HTTP status storage answered with, when it answered at all. */
export function httpStatusOf(e: unknown): number | undefined {
  const status = shape(e).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error code (`NoSuchKey`, `SlowDown` …) or the SDK error's name. */
export function s3CodeOf(e: unknown): string | undefined {
  const s = shape(e);
  return text(s.Code) ?? text(s.name);
}

function isNetworkFailure(e: unknown, depth = 0): boolean {
  if (depth > 4) return false;
  const s = shape(e);
  const code = text(s.code);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // The SDK's own deadline (NodeHttpHandler's connection and request timeouts) is a TimeoutError.
  if (text(s.name) === 'TimeoutError') return true;
  // Node's happy-eyeballs connect reports every address's failure in an AggregateError.
  if (Array.isArray(s.errors) && s.errors.some((inner) => isNetworkFailure(inner, depth + 1))) return true;
  return s.cause !== undefined && isNetworkFailure(s.cause, depth + 1);
}

/**
 * Classifies a failed call. Network errors, timeouts, 5xx answers and throttling are an outage; NoSuchKey (or a
 * HEAD's bare 404) is a missing object; the caller's own AbortSignal is an abort; anything else storage answered
 * is a refusal, a bug or a misconfiguration that retrying will not fix.
 */
export function classifyStorageFailure(e: unknown): StorageFailure {
  const name = text(shape(e).name);
  if (name === 'AbortError') return 'aborted';
  const code = s3CodeOf(e);
  const status = httpStatusOf(e);
  if (code !== undefined && NOT_FOUND.has(code)) return 'not-found';
  if (isNetworkFailure(e)) return 'outage';
  if (code !== undefined && THROTTLING.has(code)) return 'outage';
  if (status !== undefined && (status >= 500 || status === 429)) return 'outage';
  return 'refused';
}
