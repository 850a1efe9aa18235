// The HTTP listeners' settings: the admin routes get a listener of their own only when ADMIN_PORT is set, and a port
// shared with another listener is refused before anything starts.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { configProblems } from '../../support/config-problems.js';

const problems = configProblems;

describe('http config', () => {
  it('serves the admin routes with the rest unless ADMIN_PORT is set', () => {
    expect(loadConfig({}).http.admin).toBeUndefined();
    expect(loadConfig({ ADMIN_PORT: ' ' }).http.admin).toBeUndefined();
    expect(loadConfig({ ADMIN_PORT: '9000' }).http.admin).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(loadConfig({ ADMIN_PORT: '0', ADMIN_HOST: '10.0.0.5' }).http.admin).toEqual({ host: '10.0.0.5', port: 0 });
  });

  it('refuses an ADMIN_PORT out of range or shared with PORT or OPS_PORT, naming both', () => {
    expect(problems({ ADMIN_PORT: '70000' })).toEqual([expect.stringMatching(/^ADMIN_PORT: /)]);
    expect(problems({ ADMIN_PORT: '8000' })).toEqual(['ADMIN_PORT: must differ from PORT (both 8000)']);
    expect(problems({ ADMIN_PORT: '9464' })).toEqual(['ADMIN_PORT: must differ from OPS_PORT (both 9464)']);
    expect(problems({ ADMIN_PORT: '9100', PORT: '9100' })).toEqual(['ADMIN_PORT: must differ from PORT (both 9100)']);
    // Port 0 is "any free port" (tests): never a clash.
    expect(problems({ ADMIN_PORT: '0', PORT: '0', OPS_PORT: '0' })).toEqual([]);
  });
});
