// The on-call dashboard in a real browser (Debian's chromium driven by playwright-core) against an api and a worker
// process (the control plane over RabbitMQ between them): an admin signs in on the api through the directory
// (slapd), sees the four consumers running on the worker node, restarts the worker's `consumers` supervisor and sees
// its restart count go up by one and its state back to running, pauses low_priority and sees it paused, and a job
// title carrying markup is shown as text. Screenshots at laptop and phone widths are kept in
// test-results/dashboard/ (gitignored).
import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';
import { createTestDatabase, servicesEnv, type TestDatabase } from '../support/services.js';
import { startNodeProcess, type NodeProcess } from '../support/worker-process.js';
import { waitFor } from '../support/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTEFACTS = new URL('../../test-results/dashboard/', import.meta.url).pathname;
const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
const XSS_TITLE = 'Coupure <img src=x onerror="window.__xss = 1"><b>gras</b>';

let db: TestDatabase;
let vhost: TestVhost;
const WORKER = 'e2e-worker';
const processes: NodeProcess[] = [];
let apiUrl: string;
let browser: Browser;
let page: Page;
const cspViolations: string[] = [];

beforeAll(async () => {
  const env = servicesEnv();
  if (!env.TEST_RABBITMQ_MANAGEMENT_URL) throw new Error('no TEST_RABBITMQ_MANAGEMENT_URL: run `bash ops/services.sh start` again');
  db = await createTestDatabase();
  vhost = await createTestVhost();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  try {
    // The directory's agent, made an admin by the product (roles are ours, kept in users): agent login keeps it.
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO users (id, ldap_login, role, created_at) VALUES (gen_random_uuid(), $1, 'admin', now()) RETURNING id`,
      [env.TEST_LDAP_AGENT_UID.toLowerCase()],
    );
    await sql.query(
      `INSERT INTO notification_jobs (id, created_by, caller_role, target, type, queue, title, body, request_hash, state, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, 'admin', '{"kind":"everyone"}', 'planned_works', 'low_priority', $2, 'Travaux', '\\x00', 'done', now(), now())`,
      [rows[0]!.id, XSS_TITLE],
    );
  } finally {
    await sql.end();
  }
  const common = { DATABASE_URL: db.url, AMQP_URL: vhost.url, CONTROL_SNAPSHOT_MS: '1000' };
  const start = async (role: 'api' | 'worker', env: Record<string, string>): Promise<NodeProcess> => {
    const p = await startNodeProcess(role, { ...common, ...env }, 90_000);
    processes.push(p);
    await waitFor(`the ${role} ready`, async () => (await fetch(`${p.opsUrl}/health/ready`)).status === 200, 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}; output:\n${p.output().slice(-3000)}`);
    });
    return p;
  };
  await start('worker', { NODE_ID: WORKER });
  const api = await start('api', {
    NODE_ID: 'e2e-api',
    RABBITMQ_MANAGEMENT_URL: env.TEST_RABBITMQ_MANAGEMENT_URL,
    RABBITMQ_MANAGEMENT_USER: 'guest',
    RABBITMQ_MANAGEMENT_PASSWORD: 'guest',
    LDAP_URL: env.TEST_LDAP_URL,
    LDAP_BIND_DN: env.TEST_LDAP_BIND_DN,
    LDAP_BIND_PASSWORD: env.TEST_LDAP_BIND_PASSWORD,
    LDAP_BASE_DN: env.TEST_LDAP_BASE_DN,
    ADMIN_EVENTS_INTERVAL_MS: '1000',
    // Short, so the page must refresh its tokens (and reopen the event stream) before the restart below.
    ACCESS_TOKEN_TTL_MS: String(ACCESS_TTL_MS),
  });
  apiUrl = /listening on (http:\/\/\S+)/.exec(api.output())![1]!;
  await mkdir(ARTEFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: LAPTOP });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Trusted Type/i.test(m.text())) cspViolations.push(m.text());
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const p of processes) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  await vhost?.delete();
  await db?.drop();
}, 60_000);

/** The `consumers` supervisor's row on the worker node. */
const consumersRow = () => page.locator(`article.node[data-node="${WORKER}"][data-role="worker"] li.tree-row[data-name="consumers"]`);

/** Answers the page's reason dialog. */
async function giveReason(reason: string): Promise<void> {
  const dialog = page.locator('#reason-dialog');
  await dialog.locator('input[name="reason"]').fill(reason);
  await dialog.locator('button[type="submit"]').click();
}

/** The access token's life on the api: the page refreshes it a fifth of that ahead. */
const ACCESS_TTL_MS = 12_000;

describe('the on-call dashboard in headless Chromium', () => {
  it("signs in as admin, restarts the worker's consumers supervisor, pauses low_priority, and shows a job title as text", async () => {
    const env = servicesEnv();
    await page.goto(`${apiUrl}/admin`);
    await page.locator('#sign-in-form input[name="login"]').fill(env.TEST_LDAP_AGENT_UID);
    await page.locator('#sign-in-form input[name="password"]').fill(env.TEST_LDAP_AGENT_PASSWORD);
    const refreshes: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/v1/auth/refresh') refreshes.push(r.status());
    });
    await page.locator('#sign-in-form button[type="submit"]').click();
    const signedInAt = Date.now();

    // The four consumers, running, on the node that runs them.
    const consumers = consumersRow();
    await consumers.waitFor({ timeout: 30_000 });
    for (const queue of ['urgent', 'high_priority', 'normal', 'low_priority']) {
      await expect.poll(() => consumers.locator(`li[data-name="consumer.${queue}"]`).getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    }
    await expect.poll(() => consumers.getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    // Past the first access token's life: the page refreshed it (tokens in memory), and what follows (the restart's
    // POST, the snapshots showing its effect over a reopened stream) runs on the refreshed token.
    await expect.poll(() => refreshes, { timeout: 30_000 }).toContain(200);
    await page.waitForTimeout(Math.max(0, signedInAt + ACCESS_TTL_MS + 1_000 - Date.now()));
    expect(refreshes.every((status) => status === 200), JSON.stringify(refreshes)).toBe(true);
    expect(await page.locator('#sign-in-form').isVisible()).toBe(false);
    const before = Number(await consumers.getAttribute('data-restarts'));

    await consumers.locator(':scope > .tree-line button[data-action="restart"]').click();
    await giveReason('browser test: restart the consumers');
    await expect.poll(async () => Number(await consumers.getAttribute('data-restarts')), { timeout: 30_000 }).toBe(before + 1);
    await expect.poll(() => consumers.getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    for (const queue of ['urgent', 'high_priority', 'normal', 'low_priority'])
      await expect.poll(() => consumers.locator(`li[data-name="consumer.${queue}"]`).getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
    // Up by exactly one, and still one a few snapshots later.
    await page.waitForTimeout(2_500);
    expect(Number(await consumers.getAttribute('data-restarts'))).toBe(before + 1);

    const lowPriority = page.locator('article.queue[data-queue="low_priority"]');
    await lowPriority.locator('button[data-action="pause"]').click();
    await giveReason('browser test: pause low_priority');
    await expect.poll(() => lowPriority.getAttribute('data-paused'), { timeout: 30_000 }).toBe('true');
    await expect(lowPriority.locator('button[data-action="resume"]').count()).resolves.toBe(1);

    // The job title is the sender's text, shown as text: no element made of it, no handler run.
    const title = page.locator('#jobs-body td.job-title').filter({ hasText: 'Coupure' });
    await title.waitFor({ timeout: 30_000 });
    expect(await title.textContent()).toBe(XSS_TITLE);
    expect(await page.locator('#jobs-body img, #jobs-body b').count()).toBe(0);
    // (Evaluated in the page: the test's own lib has no DOM types, hence the string.)
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(cspViolations).toEqual([]);

    await page.screenshot({ path: `${ARTEFACTS}laptop.png`, fullPage: true });
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(500);
    // At phone width nothing is wider than the screen but the tables' own scrolling wrappers.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${ARTEFACTS}phone.png`, fullPage: true });
  }, 180_000);
});
