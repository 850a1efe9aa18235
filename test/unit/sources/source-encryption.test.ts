import { describe, expect, it } from 'vitest';
import { mssqlPoolFactory } from '../../../src/adapters/mssql/source-pool.js';
import { SystemClock } from '../../../src/clock.js';
import { startFaultServer } from '../../support/tcp-faults.js';

const settings = (port: number) => ({
  source: 'sic',
  server: '127.0.0.1',
  port,
  database: 'SIC',
  user: 'samaconso',
  password: 'not-a-real-password',
  ca: undefined,
  connectTimeoutMs: 2_000,
  requestTimeoutMs: 2_000,
  poolMax: 2,
  appName: 'samaconso-test',
});

describe('source pool encryption', () => {
  it('refuses a server that answers PRELOGIN "encryption not supported", before any login is sent', async () => {
    const server = await startFaultServer('prelogin-plain');
    try {
      const errors: unknown[] = [];
      const pool = mssqlPoolFactory(settings(server.port))({ clock: new SystemClock(), onError: (e) => errors.push(e) });
      await expect(pool.connect()).rejects.toMatchObject({ code: 'SOURCE_NOT_ENCRYPTED' });
      await server.allClosed();
      // tedious 19 alone would have sent LOGIN7 (0x10) in clear right after this PRELOGIN.
      expect(server.connections).toBe(1);
      expect(server.packetTypes).toEqual([0x12]);
      await pool.close().catch(() => undefined);
    } finally {
      await server.close();
    }
  });
});
