// What the sender reads of one failed message: FCM's HTTP answer (status, Retry-After, FcmError code, BadRequest
// fields), which firebase-admin's errors do not carry, joined with the error's code and text into an FcmFailure.
import type { FcmFailure } from './fcm-outcome.js';

/** What the sender read from FCM's HTTP answer to one message. */
export type ResponseInfo = Pick<FcmFailure, 'httpStatus' | 'retryAfter' | 'fcmErrorCode' | 'violationFields'>;

/** Reads an error with firebase-admin's RequestResponseError shape (`error.response`); undefined without one. */
export function responseInfo(error: unknown): ResponseInfo | undefined {
  const response = (error as { response?: { status?: unknown; headers?: Record<string, unknown>; isJson?: () => boolean; data?: unknown } }).response;
  if (!response) return undefined;
  const header = response.headers?.['retry-after'];
  const info: { -readonly [K in keyof ResponseInfo]: ResponseInfo[K] } = {
    httpStatus: typeof response.status === 'number' ? response.status : undefined,
    retryAfter: typeof header === 'string' ? header : Array.isArray(header) && typeof header[0] === 'string' ? header[0] : undefined,
  };
  try {
    if (response.isJson?.()) {
      const details = (response.data as { error?: { details?: unknown } } | undefined)?.error?.details;
      if (Array.isArray(details)) {
        for (const d of details as Array<Record<string, unknown>>) {
          if (d['@type'] === 'type.googleapis.com/google.firebase.fcm.v1.FcmError' && typeof d['errorCode'] === 'string') info.fcmErrorCode = d['errorCode'];
          if (d['@type'] === 'type.googleapis.com/google.rpc.BadRequest' && Array.isArray(d['fieldViolations'])) {
            info.violationFields = (d['fieldViolations'] as Array<{ field?: unknown }>).flatMap((v) => (typeof v.field === 'string' ? [v.field] : []));
          }
        }
      }
    }
  } catch {
    // a body that is not JSON: status and header are enough
  }
  return info;
}

/** The failure to classify: the error's code and text, plus what was read from FCM's answer. */
export function failureOf(error: unknown, info: ResponseInfo | undefined): FcmFailure {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : String(error),
    ...info,
  };
}
