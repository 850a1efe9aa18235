// Object storage (attachments): an S3 endpoint (MinIO in production), or s3rver in process beside the embedded database.
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { int, isSet, optionalText, optionalUrl } from './env-fields.js';

const MIB = 1024 * 1024;
/** S3 refuses parts under 5 MiB (but the last). */
export const MIN_PART_SIZE_BYTES = 5 * MIB;

export const objectsEnv = z.object({
  S3_ENDPOINT: optionalUrl(['http', 'https']),
  S3_PUBLIC_ENDPOINT: optionalUrl(['http', 'https']),
  // S3's bucket naming rule (3–63 lowercase letters, digits, dots, hyphens), checked here rather than by a 400 at start.
  S3_BUCKET: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3–63 lowercase letters, digits, dots and hyphens)')
    .default('samaconso-attachments'),
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalText(),
  S3_SECRET_ACCESS_KEY: optionalText(),
  S3_PART_SIZE_BYTES: int(MIN_PART_SIZE_BYTES, MIN_PART_SIZE_BYTES, 512 * MIB),
  S3_REQUEST_TIMEOUT_MS: int(30_000, 100, 600_000),
  S3_CONNECT_TIMEOUT_MS: int(3_000, 100, 60_000),
});

type ObjectsEnv = z.infer<typeof objectsEnv>;

interface Common {
  readonly bucket: string;
  readonly region: string;
  /** Size of each multipart part, one in flight: an upload holds about this much memory, whatever the object's size. */
  readonly partSizeBytes: number;
  /** Until a storage request's answer starts (and the longest silence on its socket); past it the call fails as an outage. */
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export type ObjectsConfig =
  | (Common & {
      readonly mode: 'external';
      /** The address the API reaches storage on. */
      readonly endpoint: string;
      /** The address clients reach it on; presigned URLs are signed for this host. */
      readonly publicEndpoint: string;
      readonly accessKeyId: string;
      /** Only ever handed to the S3 client; never logged. */
      readonly secretAccessKey: string;
    })
  | (Common & {
      readonly mode: 'embedded';
      /** s3rver's folder, beside PGlite's; undefined when the embedded database is in memory (then a temporary folder). */
      readonly dataDir: string | undefined;
    });

/** Where the embedded storage keeps its files: `.data/s3` beside `.data/pglite`; nothing when PGlite is in memory. */
export function embeddedObjectsDir(embeddedDataDir: string): string | undefined {
  return embeddedDataDir.startsWith('memory://') ? undefined : join(dirname(embeddedDataDir), 's3');
}

export function objectsConfig(e: ObjectsEnv & { EMBEDDED_DATA_DIR: string }): ObjectsConfig {
  const common: Common = {
    bucket: e.S3_BUCKET,
    region: e.S3_REGION,
    partSizeBytes: e.S3_PART_SIZE_BYTES,
    requestTimeoutMs: e.S3_REQUEST_TIMEOUT_MS,
    connectTimeoutMs: e.S3_CONNECT_TIMEOUT_MS,
  };
  if (!e.S3_ENDPOINT) return { ...common, mode: 'embedded', dataDir: embeddedObjectsDir(e.EMBEDDED_DATA_DIR) };
  return {
    ...common,
    mode: 'external',
    endpoint: e.S3_ENDPOINT,
    publicEndpoint: e.S3_PUBLIC_ENDPOINT ?? e.S3_ENDPOINT,
    // objectsProblems refuses a configuration without them, so they are set here.
    accessKeyId: e.S3_ACCESS_KEY_ID ?? '',
    secretAccessKey: e.S3_SECRET_ACCESS_KEY ?? '',
  };
}

/** Rules across the S3 variables (and production's), on the raw values, reported with the other problems. */
export function objectsProblems(raw: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const endpoint = isSet(raw, 'S3_ENDPOINT');
  if (endpoint) {
    for (const key of ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) {
      if (!isSet(raw, key)) problems.push(`${key}: required when S3_ENDPOINT is set (storage credentials come from the environment only)`);
    }
  } else if (isSet(raw, 'S3_PUBLIC_ENDPOINT')) {
    problems.push('S3_PUBLIC_ENDPOINT: set S3_ENDPOINT too (without it storage is the embedded s3rver, whose address is its own)');
  }
  // The worker stores nothing; the API's attachments would otherwise live on one host's disk.
  if (raw.APP_ENV === 'production' && raw.ROLE !== 'worker' && !endpoint) {
    problems.push('S3_ENDPOINT: required in production for the api role (the embedded s3rver is for development and the demo)');
  }
  // Download links are signed for the host they name, so they cannot be rewritten to the public address afterwards:
  // production says which address clients reach rather than handing them the internal one.
  if (raw.APP_ENV === 'production' && raw.ROLE !== 'worker' && endpoint && !isSet(raw, 'S3_PUBLIC_ENDPOINT')) {
    problems.push('S3_PUBLIC_ENDPOINT: required in production (the address clients download attachments from; links are signed for it)');
  }
  return problems;
}
