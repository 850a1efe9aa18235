// Runs s3rver on loopback for the tests: one fixed access key, one bucket; started and stopped by ops/services.sh.
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
// s3rver only knows its built-in S3RVER key; registering ours on its account makes signed requests with it pass.
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`s3rver: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

function abortMultipartUpload(root) {
  return async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const [, bucket, ...key] = ctx.path.split('/').map(decodeURIComponent);
    if (ctx.method !== 'DELETE' || typeof uploadId !== 'string' || !bucket || key.length === 0) return next();
    // s3rver keeps an upload under <bucket>/._S3rver_uploads/<uploadId>/ with the key it is for in a file `key`.
    const dir = path.join(root, bucket, '._S3rver_uploads', path.basename(uploadId));
    const storedKey = await readFile(path.join(dir, 'key'), 'utf8').catch(() => undefined);
    if (storedKey !== key.join('/')) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`;
      return;
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
  };
}

const port = Number(required('S3_PORT'));
const directory = required('S3_DIR');
const bucket = required('S3_BUCKET');
DUMMY_ACCOUNT.createKeyPair(required('S3_ACCESS_KEY'), required('S3_SECRET_KEY'));

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});

// s3rver 3.7.1 answers AbortMultipartUpload (DELETE ?uploadId) with 405 and ListMultipartUploads with 501, so an
// aborted upload's parts would stay in its folder and no test could tell an aborting store from a leaking one. This
// serves the abort as S3 does (204; NoSuchUpload for an unknown id), ahead of s3rver's router (which is last).
server.middleware.splice(server.middleware.length - 1, 0, abortMultipartUpload(directory));

await server.run();
console.log(`ready on http://127.0.0.1:${port} bucket ${bucket}`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
