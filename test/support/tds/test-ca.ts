// The TDS peer's CA and server certificate: the process's test CA (test/support/fcm/test-ca.ts), whose server
// certificate also names localhost and 127.0.0.1 — one openssl-made CA for every TLS fake, verification always on.
import { testCa } from '../fcm/test-ca.js';

export interface TdsTestCa {
  readonly caPem: string;
  readonly keyPem: string;
  readonly certPem: string;
  /** The CA written to a file, for SQL_<NAME>_CA_FILE. */
  readonly caFile: string;
}

export async function tdsTestCa(): Promise<TdsTestCa> {
  const { caPem, keyPem, certPem, caFile } = await testCa();
  return { caPem, keyPem, certPem, caFile };
}
