// The ObjectStore over @aws-sdk/client-s3: streamed multipart puts, presigned downloads, and failures classified.
import { PassThrough, Readable, finished } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { attachmentDisposition } from './content-disposition.js';
import { uploadInParts } from './part-uploader.js';
import { StorageUnavailableError, type ObjectStore } from './objects-messages.js';
import { ObjectNotFoundError, StorageRequestError, classifyStorageFailure, httpStatusOf, s3CodeOf } from './s3-errors.js';

export interface S3Settings {
  /** The address the API reaches storage on. */
  readonly endpoint: string;
  /** The address clients reach it on: presigned URLs are signed for this host. */
  readonly publicEndpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly partSizeBytes: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** Called when a store call failed with an outage, so the owner re-probes at once rather than at its next probe. */
export type OutageHook = (error: unknown) => void;

/** Retry-After of a call that just met an outage: the owner's probe decides the real state within that. */
const OUTAGE_RETRY_AFTER_MS = 2_000;

/** One client per endpoint; TLS verification is the SDK's default (on) and nothing here turns it off. */
export function s3Client(settings: S3Settings, endpoint: string): S3Client {
  const config: S3ClientConfig = {
    endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // FACTS.md: with the default checksum mode a stream body is stored as aws-chunked bytes by s3rver.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // One retry: an outage is the actor's state to track, not something to hide behind SDK retries.
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // A stalled download body (after the headers, where requestTimeout stops) ends too.
      socketTimeout: settings.requestTimeoutMs,
      // Without it the request timeout only logs a warning.
      throwOnRequestTimeout: true,
    },
  };
  return new S3Client(config);
}

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  /** Signs only (no request is sent through it): its endpoint is the public one, which the signature covers. */
  readonly #signer: S3Client;
  readonly #settings: S3Settings;
  readonly #onOutage: OutageHook;

  constructor(settings: S3Settings, onOutage: OutageHook = () => undefined) {
    this.#settings = settings;
    this.#onOutage = onOutage;
    this.#client = s3Client(settings, settings.endpoint);
    this.#signer = s3Client(settings, settings.publicEndpoint);
  }

  get bucket(): string {
    return this.#settings.bucket;
  }

  /**
   * Streams `body` through `uploadInParts` (one part in memory). When the body fails (its own error, or closed before
   * its end) that error is the answer, whatever the upload then met. When storage fails first the body is left
   * unpiped and unconsumed: it is the caller's (a request stream to drain or destroy), and its later errors are still
   * listened to here.
   */
  async put(key: string, body: Readable, options: { readonly contentType: string; readonly signal?: AbortSignal }): Promise<{ readonly bytes: number }> {
    options.signal?.throwIfAborted();
    let bodyError: unknown;
    const relay = new PassThrough();
    // pipe() forwards neither errors nor an early close: without this the upload would wait for an end that never comes.
    finished(body, { writable: false }, (error) => {
      if (error === undefined || error === null) return;
      bodyError ??= error;
      relay.destroy(error);
    });
    body.pipe(relay);
    const abort = (): void => void relay.destroy(options.signal?.reason as Error | undefined);
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const { bucket, partSizeBytes } = this.#settings;
      const bytes = await uploadInParts(this.#client, relay, { bucket, key, contentType: options.contentType, partSizeBytes, ...(options.signal ? { signal: options.signal } : {}) });
      return { bytes };
    } catch (e) {
      body.unpipe(relay);
      relay.destroy();
      if (bodyError !== undefined) throw bodyError;
      if (options.signal?.aborted) throw options.signal.reason ?? e;
      throw this.#failure('put', key, e);
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  async head(key: string): Promise<{ readonly bytes: number; readonly contentType: string | undefined } | undefined> {
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
      return { bytes: out.ContentLength ?? 0, contentType: out.ContentType };
    } catch (e) {
      // HEAD has no body, so a missing key is a bare 404 (`NotFound`), not `NoSuchKey`; but so is a missing bucket.
      if (classifyStorageFailure(e) !== 'not-found' && httpStatusOf(e) !== 404) throw this.#failure('head', key, e);
    }
    await this.#bucketExists('head');
    return undefined;
  }

  /** Rejects when the bucket is gone: a key's bare 404 then says nothing about the key, and storage is misconfigured. */
  async #bucketExists(operation: string): Promise<void> {
    const Bucket = this.#settings.bucket;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket }));
    } catch (e) {
      if (httpStatusOf(e) === 404 || s3CodeOf(e) === 'NoSuchBucket') throw new StorageRequestError(`${operation}: bucket ${Bucket} does not exist`, 'NoSuchBucket', 404, { cause: e });
      throw this.#failure(operation, Bucket, e);
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
      if (!(out.Body instanceof Readable)) throw new StorageRequestError('get', 'NoBody', undefined);
      return out.Body;
    } catch (e) {
      throw this.#failure('get', key, e);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
    } catch (e) {
      // S3 answers 204 for a missing key; a store that says NoSuchKey means the same: it is gone.
      if (classifyStorageFailure(e) === 'not-found') return;
      throw this.#failure('delete', key, e);
    }
  }

  async presignDownload(key: string, options: { readonly expiresInS: number; readonly filename: string }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.#settings.bucket,
      Key: key,
      ResponseContentDisposition: attachmentDisposition(options.filename),
    });
    // Signing is local (no request); a failure here is a bug, not an outage.
    return getSignedUrl(this.#signer, command, { expiresIn: options.expiresInS });
  }

  /**
   * HeadBucket: whether storage answers and the bucket is there; with `createBucket` (never in production) a missing
   * bucket is created. Rejects classified like every call; a missing bucket otherwise is a StorageRequestError.
   */
  async probe(createBucket: boolean): Promise<'present' | 'created'> {
    const Bucket = this.#settings.bucket;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket }));
      return 'present';
    } catch (e) {
      const missing = httpStatusOf(e) === 404 || s3CodeOf(e) === 'NoSuchBucket';
      if (!missing) throw this.#failure('probe', Bucket, e, false);
      if (!createBucket) throw new StorageRequestError(`probe: bucket ${Bucket} does not exist (it is created only outside production)`, 'NoSuchBucket', 404, { cause: e });
    }
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket }));
      return 'created';
    } catch (e) {
      // Another node created it between our HEAD and our PUT.
      if (s3CodeOf(e) === 'BucketAlreadyOwnedByYou' || s3CodeOf(e) === 'BucketAlreadyExists') return 'present';
      throw this.#failure('create bucket', Bucket, e, false);
    }
  }

  /** Closes the clients' sockets. */
  destroy(): void {
    this.#client.destroy();
    this.#signer.destroy();
  }

  #failure(operation: string, key: string, e: unknown, report = true): Error {
    if (e instanceof StorageRequestError || e instanceof StorageUnavailableError || e instanceof ObjectNotFoundError) return e;
    switch (classifyStorageFailure(e)) {
      case 'outage':
        if (report) this.#onOutage(e);
        return new StorageUnavailableError(`Object storage did not answer ${operation}.`, OUTAGE_RETRY_AFTER_MS, { cause: e });
      case 'not-found':
        return new ObjectNotFoundError(key);
      case 'aborted':
        return e instanceof Error ? e : new Error(String(e));
      case 'refused':
        return new StorageRequestError(operation, s3CodeOf(e), httpStatusOf(e), { cause: e });
    }
  }
}
