// How a failed storage call is read: outage, missing object, the caller's abort, or a refusal that retrying won't fix.
import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { classifyStorageFailure } from '../../../src/adapters/s3/s3-errors.js';

const answered = (name: string, status: number) => new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });

describe('classifyStorageFailure', () => {
  it('calls network errors an outage: refused, reset, unreachable, DNS, and Node’s AggregateError of every address', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(classifyStorageFailure(socketError(code)), code).toBe('outage');
    }
    expect(classifyStorageFailure(new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')]))).toBe('outage');
    // Wrapped by a layer above (lib-storage, a retry strategy): the cause still tells.
    expect(classifyStorageFailure(new Error('upload failed', { cause: socketError('ECONNRESET') }))).toBe('outage');
  });

  it('calls the SDK’s connection and request timeouts an outage', () => {
    expect(classifyStorageFailure(Object.assign(new Error('a request has exceeded the configured 30000 ms requestTimeout'), { name: 'TimeoutError', code: 'ETIMEDOUT' }))).toBe('outage');
    expect(classifyStorageFailure(Object.assign(new Error('Socket timed out without establishing a connection within 3000 ms'), { name: 'TimeoutError' }))).toBe('outage');
  });

  it('calls 5xx answers and throttling an outage, whatever status the throttle came with', () => {
    expect(classifyStorageFailure(answered('InternalError', 500))).toBe('outage');
    expect(classifyStorageFailure(answered('ServiceUnavailable', 503))).toBe('outage');
    expect(classifyStorageFailure(answered('SlowDown', 503))).toBe('outage');
    expect(classifyStorageFailure(answered('Unknown', 502))).toBe('outage');
    expect(classifyStorageFailure(answered('TooManyRequestsException', 429))).toBe('outage');
    expect(classifyStorageFailure(answered('RequestTimeout', 400))).toBe('outage');
    expect(classifyStorageFailure(answered('ThrottlingException', 400))).toBe('outage');
  });

  it('calls NoSuchKey and a HEAD’s bare 404 a missing object, not an outage', () => {
    expect(classifyStorageFailure(new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }))).toBe('not-found');
    expect(classifyStorageFailure(new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'UnknownError' }))).toBe('not-found');
  });

  it('calls the caller’s abort an abort', () => {
    expect(classifyStorageFailure(Object.assign(new Error('Upload aborted.'), { name: 'AbortError' }))).toBe('aborted');
  });

  it('calls everything else storage answered a refusal: bad credentials, access denied, a missing bucket, a bad request', () => {
    expect(classifyStorageFailure(answered('InvalidAccessKeyId', 403))).toBe('refused');
    expect(classifyStorageFailure(answered('SignatureDoesNotMatch', 403))).toBe('refused');
    expect(classifyStorageFailure(answered('AccessDenied', 403))).toBe('refused');
    expect(classifyStorageFailure(new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'The specified bucket does not exist' }))).toBe('refused');
    expect(classifyStorageFailure(answered('EntityTooSmall', 400))).toBe('refused');
    // A programming error in our own code is no outage either.
    expect(classifyStorageFailure(new TypeError('Cannot read properties of undefined'))).toBe('refused');
  });
});
