// A throwaway certificate authority and a server certificate for the fake FCM, made at runtime with the
// openssl CLI (node:crypto cannot issue X.509 certificates). Generated once per process and cached.
// The server certificate names fcm.googleapis.com and oauth2.googleapis.com (what firebase-admin dials),
// plus localhost and 127.0.0.1. Clients trust it through `ca` (or NODE_EXTRA_CA_CERTS=caFile in a child
// process); TLS verification stays on everywhere.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FAKE_FCM_HOSTNAMES = ['fcm.googleapis.com', 'oauth2.googleapis.com'] as const;

export interface TestCa {
  /** PEM of the CA certificate: what clients trust. */
  caPem: string;
  /** Path of the CA certificate (for NODE_EXTRA_CA_CERTS or a product's "extra CA file" setting). */
  caFile: string;
  /** PEM of the server key and certificate (leaf only; the CA signs it directly). */
  keyPem: string;
  certPem: string;
  dir: string;
}

let cached: Promise<TestCa> | undefined;

/** The process's test CA and server certificate, generated on first use. */
export function testCa(): Promise<TestCa> {
  cached ??= generate().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function generate(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-fcm-ca-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run('openssl', [
    'req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '7',
    '-subj', '/CN=SamaConso fake FCM test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', [
    'req', ...ec, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', `/CN=${FAKE_FCM_HOSTNAMES[0]}`,
  ]);
  const sans = [...FAKE_FCM_HOSTNAMES.map((h) => `DNS:${h}`), 'DNS:localhost', 'IP:127.0.0.1'].join(',');
  writeFileSync(
    path('server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${sans}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid,issuer',
      '',
    ].join('\n'),
  );
  await run('openssl', [
    'x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial',
    '-out', path('server.pem'), '-days', '7', '-extfile', path('server.ext'),
  ]);
  return {
    caPem: readFileSync(path('ca.pem'), 'utf8'),
    caFile: path('ca.pem'),
    keyPem: readFileSync(path('server.key'), 'utf8'),
    certPem: readFileSync(path('server.pem'), 'utf8'),
    dir,
  };
}
