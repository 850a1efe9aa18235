// The S3_* settings: embedded without an endpoint, credentials from the environment when there is one, production's rule.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { configProblems } from '../../support/config-problems.js';

const problems = configProblems;

describe('objects config', () => {
  it('is the embedded s3rver without S3_ENDPOINT, its folder beside the embedded database’s (none when that is in memory)', () => {
    expect(loadConfig({}).objects).toEqual({
      mode: 'embedded',
      dataDir: '.data/s3',
      bucket: 'samaconso-attachments',
      region: 'us-east-1',
      partSizeBytes: 5 * 1024 * 1024,
      requestTimeoutMs: 30_000,
      connectTimeoutMs: 3_000,
    });
    expect(loadConfig({ EMBEDDED_DATA_DIR: '/var/lib/samaconso/pglite' }).objects).toMatchObject({ dataDir: '/var/lib/samaconso/s3' });
    expect(loadConfig({ EMBEDDED_DATA_DIR: 'memory://' }).objects).toMatchObject({ mode: 'embedded', dataDir: undefined });
  });

  it('takes the endpoint, its public address (the endpoint by default) and the credentials from the environment', () => {
    const env = { S3_ENDPOINT: 'http://minio.internal:9000', S3_ACCESS_KEY_ID: 'app', S3_SECRET_ACCESS_KEY: 's3cret', S3_BUCKET: 'attachments', S3_PART_SIZE_BYTES: String(8 * 1024 * 1024) };
    expect(loadConfig(env).objects).toMatchObject({ mode: 'external', endpoint: 'http://minio.internal:9000', publicEndpoint: 'http://minio.internal:9000', accessKeyId: 'app', secretAccessKey: 's3cret', bucket: 'attachments', partSizeBytes: 8 * 1024 * 1024 });
    expect(loadConfig({ ...env, S3_PUBLIC_ENDPOINT: 'https://files.example.sn' }).objects).toMatchObject({ publicEndpoint: 'https://files.example.sn' });
  });

  it('names each missing credential when S3_ENDPOINT is set, and refuses a part under S3’s 5 MiB or a bad bucket name', () => {
    expect(problems({ S3_ENDPOINT: 'http://minio:9000' })).toEqual([
      expect.stringMatching(/^S3_ACCESS_KEY_ID: required when S3_ENDPOINT is set/),
      expect.stringMatching(/^S3_SECRET_ACCESS_KEY: required when S3_ENDPOINT is set/),
    ]);
    expect(problems({ S3_PART_SIZE_BYTES: String(1024 * 1024) })).toEqual([expect.stringMatching(/^S3_PART_SIZE_BYTES: /)]);
    expect(problems({ S3_BUCKET: 'Not_A_Bucket' })).toEqual([expect.stringMatching(/^S3_BUCKET: must be an S3 bucket name/)]);
    expect(problems({ S3_PUBLIC_ENDPOINT: 'https://files.example.sn' })).toEqual([expect.stringMatching(/^S3_PUBLIC_ENDPOINT: set S3_ENDPOINT too/)]);
    expect(problems({ S3_ENDPOINT: 'ftp://minio', S3_ACCESS_KEY_ID: 'app', S3_SECRET_ACCESS_KEY: 's' })).toEqual([expect.stringMatching(/^S3_ENDPOINT: must be a URL/)]);
  });

  it('requires the public address in production, where download links are signed for the host they name', () => {
    const production = { APP_ENV: 'production', S3_ENDPOINT: 'http://minio.internal:9000', S3_ACCESS_KEY_ID: 'app', S3_SECRET_ACCESS_KEY: 's' };
    expect(problems(production).filter((l) => l.startsWith('S3_'))).toEqual([expect.stringMatching(/^S3_PUBLIC_ENDPOINT: required in production/)]);
    expect(problems({ ...production, S3_PUBLIC_ENDPOINT: 'https://files.example.sn' }).filter((l) => l.startsWith('S3_'))).toEqual([]);
  });

  it('never puts the secret in a problem line', () => {
    const lines = problems({ S3_ENDPOINT: 'http://minio:9000', S3_SECRET_ACCESS_KEY: 'very-secret-value', S3_PART_SIZE_BYTES: 'x' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('very-secret-value');
  });
});
