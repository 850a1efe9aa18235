// s3rver in this process on loopback (the embedded mode's storage, and tests' private ones): real S3 over HTTP.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of s3rver 3.7 used here (it ships no types). */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly httpServer?: Server;
}
type S3rverClass = new (options: { address: string; port: number; directory: string; silent: boolean; configureBuckets: [] }) => S3rverServer;
interface S3rverAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
}

const require = createRequire(import.meta.url);

export interface EmbeddedS3 {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Stops listening; a temporary folder (no `directory` given) is removed. */
  close(): Promise<void>;
}

export interface EmbeddedS3Options {
  /** Where objects are kept; undefined: a temporary folder removed at close. */
  readonly directory?: string | undefined;
  /** @defaultValue 0 (the OS picks one) */
  readonly port?: number;
  /** @defaultValue a random pair for this process (nothing outside it needs to know them) */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

/**
 * Starts s3rver on 127.0.0.1. s3rver accepts only the key pairs registered on its one built-in account (as
 * ops/s3rver.mjs does for the tests' server), so ours is registered there before the first request.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  // Loaded here, not at the top: only the embedded mode and tests need s3rver.
  const S3rver = require('s3rver') as S3rverClass;
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: S3rverAccount };
  const accessKeyId = options.accessKeyId ?? `EMB${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = options.secretAccessKey ?? randomBytes(24).toString('base64url');
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

  const temporary = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'samaconso-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, directory, silent: true, configureBuckets: [] });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (e) {
    if (temporary) rmSync(directory, { recursive: true, force: true });
    throw e;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    directory,
    accessKeyId,
    secretAccessKey,
    close: async () => {
      const closing = server.close();
      // Kept-alive and in-flight connections end now: a stop is a stop (the outage tests rely on it).
      server.httpServer?.closeAllConnections();
      await closing;
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  };
}
