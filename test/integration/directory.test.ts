// The directory actor against the real slapd of ops/services.sh (ldap and ldaps), and against TCP servers of the
// test's own where slapd cannot misbehave on demand: one that counts connections and hangs, or proxies to slapd.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { directoryActor, type DirectoryActorOptions } from '../../actors/resources/directory-actor.js';
import { type Clock, ManualClock, SystemClock } from '../../src/clock.js';
import type { DirectoryAgent, DirectoryMessage } from '../../src/contracts/directory-messages.js';
import { DirectoryUnavailableError, InvalidAgentCredentialsError } from '../../src/adapters/directory/directory-errors.js';
import { type LdapConfig, userFilter } from '../../src/adapters/directory/ldap-directory.js';
import { createLogger, type Logger, silentLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { servicesEnv } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function ldapConfig(overrides: Partial<LdapConfig> = {}): LdapConfig {
  const env = servicesEnv();
  return {
    url: env.TEST_LDAP_URL,
    bindDn: env.TEST_LDAP_BIND_DN,
    bindPassword: env.TEST_LDAP_BIND_PASSWORD,
    baseDn: env.TEST_LDAP_BASE_DN,
    userFilter: '(uid={login})',
    agencyAttribute: 'departmentNumber',
    caFile: undefined,
    startTls: false,
    timeoutMs: 2_000,
    ...overrides,
  };
}

function ldapsSettings(): { url: string; caFile: string } {
  const env = servicesEnv();
  if (!env.TEST_LDAPS_URL || !env.TEST_LDAP_CA_FILE) throw new Error('no ldaps settings: run `bash ops/services.sh start` again');
  return { url: env.TEST_LDAPS_URL, caFile: env.TEST_LDAP_CA_FILE };
}

const agent = () => ({ login: servicesEnv().TEST_LDAP_AGENT_UID, password: servicesEnv().TEST_LDAP_AGENT_PASSWORD });

/** The directory actor alone under a root supervisor; no probe at start unless asked, so connection counts are the attempts'. */
async function startDirectory(config: LdapConfig, options: DirectoryActorOptions = {}, clock: Clock = new SystemClock(), log: Logger = silentLogger()) {
  const runtime = new Runtime({ clock, log, random: () => 0 });
  await runtime.start(
    supervisor({ name: 'root', children: [actor({ name: 'directory', behaviour: directoryActor(config, { probeOnStart: false, random: () => 0, ...options }) })] }),
  );
  cleanups.push(() => runtime.stop());
  return {
    runtime,
    authenticate: (login: string, password: string): Promise<DirectoryAgent> =>
      runtime.ask<DirectoryMessage, 'authenticate'>('directory', 'authenticate', { login, password }, 10_000),
    stats: () => runtime.tree().children![0]!.stats,
  };
}

/** Fails with what the promise rejected with; fails the test if it resolved. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

interface FakeDirectory {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections still open. */
  readonly open: number;
  /** Proxy mode: every byte the clients sent, as the network saw it. */
  readonly clientBytes: () => Buffer;
  /** `hang` accepts and never answers; `proxy` pipes each new connection to the real slapd. */
  mode: 'hang' | 'proxy';
}

/** A TCP server on a free loopback port, closed after the test. */
async function fakeDirectory(mode: FakeDirectory['mode']): Promise<FakeDirectory> {
  const slapd = new URL(servicesEnv().TEST_LDAP_URL);
  const sockets = new Set<Socket>();
  const seen: Buffer[] = [];
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    if (fake.mode === 'proxy') {
      const upstream = connect({ host: slapd.hostname, port: Number(slapd.port) });
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      socket.on('data', (chunk: Buffer) => seen.push(chunk));
      socket.pipe(upstream).pipe(socket);
    } else {
      socket.resume(); // read and drop requests: the client's FIN is seen only once its bytes are read
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const fake: FakeDirectory = {
    url: `ldap://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    clientBytes: () => Buffer.concat(seen),
    mode,
  };
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return fake;
}

/** A loopback port nobody listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('directory actor against slapd', () => {
  it('right password → the agent, with its agency from departmentNumber', async () => {
    const env = servicesEnv();
    const dir = await startDirectory(ldapConfig());
    expect(await dir.authenticate(agent().login, agent().password)).toEqual({
      login: env.TEST_LDAP_AGENT_UID,
      dn: `uid=${env.TEST_LDAP_AGENT_UID},ou=agents,${env.TEST_LDAP_BASE_DN}`,
      displayName: 'Awa Diop',
      email: `${env.TEST_LDAP_AGENT_UID}@samaconso.test`,
      agency: env.TEST_LDAP_AGENT_AGENCY,
    });
  });

  it('wrong password → INVALID_CREDENTIALS', async () => {
    const dir = await startDirectory(ldapConfig());
    const error = await rejection(dir.authenticate(agent().login, `${agent().password}x`));
    expect(error).toBeInstanceOf(InvalidAgentCredentialsError);
    expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('unknown login → the very same error as a wrong password (class, code, message, fields)', async () => {
    const dir = await startDirectory(ldapConfig());
    const unknown = await rejection(dir.authenticate('nobody-here', agent().password));
    const wrong = await rejection(dir.authenticate(agent().login, 'not-the-password'));
    expect(unknown).toBeInstanceOf(InvalidAgentCredentialsError);
    expect({ ...unknown, message: unknown.message }).toEqual({ ...wrong, message: wrong.message });
  });

  it('empty or blank password → INVALID_CREDENTIALS without any connection to the directory', async () => {
    const fake = await fakeDirectory('hang');
    const dir = await startDirectory(ldapConfig({ url: fake.url }));
    for (const password of ['', '   ', '\t\n']) {
      const error = await rejection(dir.authenticate(agent().login, password));
      expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS', message: new InvalidAgentCredentialsError().message });
    }
    expect(fake.connections).toBe(0);
  });

  it('filter-injection logins are escaped (RFC 4515) and find nothing', async () => {
    expect(userFilter('(&(objectClass=inetOrgPerson)(uid={login}))', 'a)(uid=*\\\0$&')).toBe('(&(objectClass=inetOrgPerson)(uid=a\\29\\28uid=\\2a\\5c\\00$&))');
    const dir = await startDirectory(ldapConfig());
    const { login, password } = agent();
    // `adi*` unescaped would be a substring filter matching exactly this agent, so its password would succeed.
    for (const injected of [`${login.slice(0, 3)}*`, '*', 'a)(uid=*', `${login})(|(uid=*`, `*)(uid=${login}`]) {
      await expect(dir.authenticate(injected, password), injected).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
  });

  it('a login matching more than one entry → INVALID_CREDENTIALS even with the right password, and a warning', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } });
    // A filter that matches every agent: the search (sizeLimit 2) returns two entries.
    const dir = await startDirectory(ldapConfig({ userFilter: '(|(uid={login})(objectClass=inetOrgPerson))' }), {}, new SystemClock(), log);
    await expect(dir.authenticate(agent().login, agent().password)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(lines.join('')).toMatch(/matches more than one directory entry/);
  });

  it('an entry without the agency attribute → AGENT_WITHOUT_AGENCY, only once the password is right', async () => {
    const dir = await startDirectory(ldapConfig({ agencyAttribute: 'employeeType' }));
    await expect(dir.authenticate(agent().login, agent().password)).rejects.toMatchObject({ code: 'AGENT_WITHOUT_AGENCY' });
    await expect(dir.authenticate(agent().login, 'not-the-password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('a refused service account → DIRECTORY_UNAVAILABLE, never INVALID_CREDENTIALS', async () => {
    const dir = await startDirectory(ldapConfig({ bindPassword: 'not-the-service-password' }));
    const error = await rejection(dir.authenticate(agent().login, agent().password));
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    expect(error).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'misconfigured' });
  });

  it('closes its connection after every attempt, whatever the outcome (unbind in finally)', async () => {
    const fake = await fakeDirectory('proxy');
    const dir = await startDirectory(ldapConfig({ url: fake.url }));
    await dir.authenticate(agent().login, agent().password);
    await expect(dir.authenticate(agent().login, 'not-the-password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(dir.authenticate('nobody-here', 'whatever')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(fake.connections).toBe(3);
    await waitFor('every connection closed', () => fake.open === 0);
  });

  it('logs the login but never the password', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const dir = await startDirectory(ldapConfig({ timeoutMs: 300 }), {}, new SystemClock(), log);
    const { login, password } = agent();
    await dir.authenticate(login, password);
    await expect(dir.authenticate(login, 'Wrong-secret-42')).rejects.toThrow();
    const down = await startDirectory(ldapConfig({ url: `ldap://127.0.0.1:${await closedPort()}` }), {}, new SystemClock(), log);
    await expect(down.authenticate(login, 'Down-secret-43')).rejects.toThrow();
    const text = lines.join('');
    expect(text).toContain(login);
    for (const secret of [password, 'Wrong-secret-42', 'Down-secret-43', servicesEnv().TEST_LDAP_BIND_PASSWORD]) expect(text).not.toContain(secret);
  });
});

describe('directory actor over ldaps', () => {
  it("with the directory's CA → the agent", async () => {
    const dir = await startDirectory(ldapConfig(ldapsSettings()));
    expect(await dir.authenticate(agent().login, agent().password)).toMatchObject({ login: agent().login, agency: servicesEnv().TEST_LDAP_AGENT_AGENCY });
  });

  it('without the CA → DIRECTORY_UNAVAILABLE: the certificate is verified, never trusted blindly', async () => {
    const dir = await startDirectory(ldapConfig({ url: ldapsSettings().url, caFile: undefined }));
    const error = await rejection(dir.authenticate(agent().login, agent().password));
    expect(error).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'tls' });
  });

  it('with a CA file that cannot be read → DIRECTORY_UNAVAILABLE', async () => {
    const dir = await startDirectory(ldapConfig({ url: ldapsSettings().url, caFile: '/nonexistent/ca.crt' }));
    await expect(dir.authenticate(agent().login, agent().password)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'misconfigured' });
  });
});

describe('directory actor over ldap:// with StartTLS', () => {
  const withStartTls = (c: LdapConfig): LdapConfig => ({ ...c, startTls: true });

  it("upgrades the plain port with the directory's CA before any bind: the password never crosses the wire in clear", async () => {
    const wire = await fakeDirectory('proxy');
    const dir = await startDirectory(withStartTls(ldapConfig({ url: wire.url, caFile: ldapsSettings().caFile })));
    expect(await dir.authenticate(agent().login, agent().password)).toMatchObject({ login: agent().login });
    const bytes = wire.clientBytes();
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(agent().password))).toBe(false);
    expect(bytes.includes(Buffer.from(servicesEnv().TEST_LDAP_BIND_PASSWORD))).toBe(false);
  });

  it('the witness sees a plain bind: without StartTLS the password is on the wire', async () => {
    const wire = await fakeDirectory('proxy');
    const dir = await startDirectory(ldapConfig({ url: wire.url }));
    await dir.authenticate(agent().login, agent().password);
    expect(wire.clientBytes().includes(Buffer.from(agent().password))).toBe(true);
  });
});

describe('directory actor when the directory is down', () => {
  it('stopped (a closed port) → DIRECTORY_UNAVAILABLE at once, without waiting for the timeout', async () => {
    // A 60 s timeout against a 10 s query deadline: a reply at all shows the refusal was not waited out.
    const dir = await startDirectory(ldapConfig({ url: `ldap://127.0.0.1:${await closedPort()}`, timeoutMs: 60_000 }));
    const error = await rejection(dir.authenticate(agent().login, agent().password));
    expect(error).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'unreachable' });
    expect(dir.stats().state).toBe('running'); // one failure does not open the circuit
  });

  it('hung (accepts, never answers) → DIRECTORY_UNAVAILABLE after the timeout, not a hang', async () => {
    const fake = await fakeDirectory('hang');
    const dir = await startDirectory(ldapConfig({ url: fake.url, timeoutMs: 300 }));
    const error = await rejection(dir.authenticate(agent().login, agent().password));
    expect(error).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'timeout' });
    expect(fake.connections).toBe(1);
    await waitFor('the hung connection closed', () => fake.open === 0);
  });

  it('hung in the TLS handshake (ldaps) → DIRECTORY_UNAVAILABLE after the timeout', async () => {
    const fake = await fakeDirectory('hang');
    const dir = await startDirectory(ldapConfig({ url: fake.url.replace('ldap:', 'ldaps:'), caFile: ldapsSettings().caFile, timeoutMs: 300 }));
    await expect(dir.authenticate(agent().login, agent().password)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'timeout' });
    expect(fake.connections).toBe(1);
  });

  it('the circuit opens after 3 consecutive outages (backing-off, answers without connecting) and closes when the directory answers', async () => {
    // Probes run on a manual clock so the test decides when one happens; the network and its timeouts stay real.
    const clock = new ManualClock();
    const fake = await fakeDirectory('hang');
    const dir = await startDirectory(ldapConfig({ url: fake.url, timeoutMs: 200 }), { failureThreshold: 3, probeBackoff: { minMs: 1_000, jitter: 0 } }, clock);
    const { login, password } = agent();

    for (let i = 1; i <= 3; i++) {
      await expect(dir.authenticate(login, password)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'timeout' });
      expect(dir.stats().state).toBe(i < 3 ? 'running' : 'backing-off');
    }
    expect(dir.stats().detail).toMatch(/directory unavailable \(timeout/);
    expect(fake.connections).toBe(3);

    const open = await rejection(dir.authenticate(login, password));
    expect(open).toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'circuit-open', retryAfterMs: 1_000 });
    expect(fake.connections).toBe(3); // answered without touching the network

    // A probe while still hung fails and keeps the circuit open.
    clock.advance(1_000);
    await waitFor('the failed probe', () => fake.connections === 4 && /next probe in 2000 ms/.test(dir.stats().detail ?? ''));
    expect(dir.stats().state).toBe('backing-off');

    fake.mode = 'proxy'; // the directory answers again
    clock.advance(2_000);
    await waitFor('circuit closed', () => dir.stats().state === 'running');
    expect(fake.connections).toBe(5);
    expect(await dir.authenticate(login, password)).toMatchObject({ login, agency: servicesEnv().TEST_LDAP_AGENT_AGENCY });
    expect(dir.stats()).toMatchObject({ state: 'running', crashes: 0, restarts: 0 });
  });

  it('a failed probe at start opens the circuit before any agent tries', async () => {
    const clock = new ManualClock();
    const dir = await startDirectory(ldapConfig({ url: `ldap://127.0.0.1:${await closedPort()}` }), { probeOnStart: true }, clock);
    await waitFor('circuit opened by the start probe', () => dir.stats().state === 'backing-off');
    await expect(dir.authenticate(agent().login, agent().password)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE', reason: 'circuit-open' });
  });
});
