import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { configProblems } from '../../support/config-problems.js';

const problems = configProblems;

describe('sources config', () => {
  it('runs the three utility databases as PostgreSQL twins when no URL is set', () => {
    const c = loadConfig({});
    expect(c.sources.sources).toEqual([
      { name: 'sic', mode: 'twin' },
      { name: 'histh2mc', mode: 'twin' },
      { name: 'bi_ods', mode: 'twin' },
    ]);
    expect(c.sources).toMatchObject({ connectTimeoutMs: 5_000, queryTimeoutMs: 10_000, poolMax: 10, failureThreshold: 3 });
  });

  it('polls the SIC registrations every 5 s unless SIC_REGISTRATION_POLL_MS says otherwise (from 100 ms to an hour)', () => {
    expect(loadConfig({}).sources.sicRegistrationPollMs).toBe(5_000);
    expect(loadConfig({ SIC_REGISTRATION_POLL_MS: '1500' }).sources.sicRegistrationPollMs).toBe(1_500);
    expect(problems({ SIC_REGISTRATION_POLL_MS: '0' })).toEqual([expect.stringMatching(/^SIC_REGISTRATION_POLL_MS: must be a whole number from 100 to 3600000/)]);
  });

  it('adds a database by configuration alone: its name in SQL_SOURCES, its URL and CA under its own name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samaconso-sources-'));
    try {
      const ca = join(dir, 'utility-ca.pem');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
      const c = loadConfig({ SQL_SOURCES: 'sic, gis', SQL_GIS_URL: 'mssql://reader:p%40ss@gis.senelec.example:14330/GIS', SQL_GIS_CA_FILE: ca, SQL_QUERY_TIMEOUT_MS: '4000' });
      expect(c.sources.sources).toEqual([
        { name: 'sic', mode: 'twin' },
        { name: 'gis', mode: 'mssql', server: 'gis.senelec.example', port: 14330, database: 'GIS', user: 'reader', password: 'p@ss', caFile: ca },
      ]);
      expect(c.sources.queryTimeoutMs).toBe(4_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names each bad source setting on its own line', () => {
    expect(problems({ SQL_SOURCES: 'sic,Bad-Name', SQL_SIC_URL: 'https://sic.example/SIC', SQL_POOL_MAX: '0' })).toEqual([
      expect.stringMatching(/^SQL_SOURCES: "bad-name" is not a source name/),
      expect.stringMatching(/^SQL_SIC_URL: must be a URL like mssql:\/\//),
      expect.stringMatching(/^SQL_POOL_MAX: /),
    ]);
    expect(problems({ SQL_SOURCES: 'sic', SQL_SIC_URL: 'mssql://u:p@sic.example/SIC', SQL_SIC_CA_FILE: '/nowhere/ca.pem' })).toEqual(['SQL_SIC_CA_FILE: no such file: /nowhere/ca.pem']);
  });
});
