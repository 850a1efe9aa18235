import { describe, expect, it } from 'vitest';
import { mssqlPoolFactory } from '../../../src/adapters/mssql/source-pool.js';
import { SystemClock } from '../../../src/clock.js';
import { sqlSourceActor } from '../../../actors/resources/sql-source-actor.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { testRuntime } from '../../support/supervision.js';
import { startFaultServer } from '../../support/tcp-faults.js';
import { waitFor } from '../../support/wait.js';

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

describe('source actor against a server that refuses encryption', () => {
  it('never logs in, backs off, and names the refusal in its detail', async () => {
    const server = await startFaultServer('prelogin-plain');
    const t = testRuntime();
    try {
      const pool = mssqlPoolFactory(settings(server.port));
      await t.runtime.start(
        supervisor({ name: 'root', children: [actor({ name: 'source-sic', readiness: 'optional', behaviour: sqlSourceActor({ source: 'sic', mode: { kind: 'mssql', pool }, queryTimeoutMs: 1_000 }) })] }),
      );
      const part = () => t.runtime.readiness('test').parts.find((p) => p.name === 'source-sic')!;
      await waitFor('refused', () => part().detail?.includes('did not negotiate encryption'));
      expect(part().state).toBe('backing-off');
      await server.allClosed();
      expect(server.packetTypes).not.toContain(0x10);
    } finally {
      await t.runtime.stop();
      await server.close();
    }
  });
});
