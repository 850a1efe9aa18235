// Runs s3rver on loopback for the tests: one fixed access key, one bucket; started and stopped by ops/services.sh.
import { createRequire } from 'node:module';

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
