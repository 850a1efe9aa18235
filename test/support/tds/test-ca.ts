// The TDS peer's own throwaway CA and server certificate (localhost, 127.0.0.1), made by the openssl CLI once per process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TdsTestCa {
  readonly caPem: string;
  readonly keyPem: string;
  readonly certPem: string;
}

let cached: Promise<TdsTestCa> | undefined;

/** node:crypto cannot issue X.509, hence openssl; clients trust `caPem` and keep verification on. */
export function tdsTestCa(): Promise<TdsTestCa> {
  cached ??= generate().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function generate(): Promise<TdsTestCa> {
  const dir = mkdtempSync(join(tmpdir(), 'tds-peer-ca-'));
  const path = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run('openssl', [
      'req', '-x509', ...ec, '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '7',
      '-subj', '/CN=SamaConso TDS peer test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run('openssl', ['req', ...ec, '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost']);
    writeFileSync(
      path('server.ext'),
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        'subjectKeyIdentifier=hash',
        'authorityKeyIdentifier=keyid,issuer',
        '',
      ].join('\n'),
    );
    await run('openssl', [
      'x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial',
      '-out', path('server.pem'), '-days', '7', '-extfile', path('server.ext'),
    ]);
    return { caPem: readFileSync(path('ca.pem'), 'utf8'), keyPem: readFileSync(path('server.key'), 'utf8'), certPem: readFileSync(path('server.pem'), 'utf8') };
  } finally {
    // The PEMs are in memory now; nothing (the CA key least of all) stays on disk.
    rmSync(dir, { recursive: true, force: true });
  }
}
