// `npm run check-health` against a running node (role all: API, control plane, the four consumers) on the real
// PostgreSQL and RabbitMQ with its management API: exit 0 when all is well; 1 naming the row when a priority queue
// has no consumer (its consumer stopped pulling without a pause recorded: the broker counts none) and is not paused;
// 0 again once an admin paused that queue. The CLI runs as its own process (tsx) for the verdicts, and in process
// while waiting for the broker's sampled counters to catch up.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from '../../src/cli/check-health.js';
import { consumerName, type ConsumerMessage } from '../../src/dispatch/consumer-messages.js';
import { startDispatchNode, type DispatchNode } from '../support/dispatch-node.js';
import { servicesEnv } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
let n: DispatchNode;
const NODE_ID = 'health-all-1';

beforeAll(async () => {
  const management = servicesEnv().TEST_RABBITMQ_MANAGEMENT_URL;
  if (!management) throw new Error('no TEST_RABBITMQ_MANAGEMENT_URL: run `bash ops/services.sh start` again (it enables the management plugin)');
  n = await startDispatchNode({
    env: { NODE_ID: NODE_ID, CONTROL_SNAPSHOT_MS: '300', RABBITMQ_MANAGEMENT_URL: management, RABBITMQ_MANAGEMENT_USER: 'guest', RABBITMQ_MANAGEMENT_PASSWORD: 'guest' },
  });
}, 60_000);
afterAll(async () => {
  await n?.stop();
});

const env = (): Record<string, string> => ({ SAMACONSO_URL: n.node.apiUrl!, SAMACONSO_ADMIN_TOKEN: n.admin });

/** The CLI as on-call runs it: its own process, the environment as its only input; exit code and output. */
async function cli(): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/check-health.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env() }, timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Polls the CLI in process until it exits with `code` (the management API samples its counters every few seconds). */
const untilExit = (code: number, what: string) =>
  waitFor(
    what,
    async () => {
      const lines: string[] = [];
      return (await checkHealth([], env(), (l) => lines.push(l))) === code ? lines.join('\n') : undefined;
    },
    60_000,
  );

describe('npm run check-health against a running node', () => {
  it('exits 0 when all is well, 1 naming a priority queue left without consumer, and 0 again once that queue is paused', async () => {
    await untilExit(0, 'the node healthy for check-health (snapshot received, four consumers counted)');
    const healthy = await cli();
    expect(healthy.code, healthy.out).toBe(0);
    const nodeId = NODE_ID;
    expect(healthy.out).toMatch(new RegExp(`^${nodeId} +\\(node\\) +yes +alive +\\d+`, 'm'));
    expect(healthy.out).toMatch(new RegExp(`^${nodeId} +postgres +yes +running +\\d+`, 'm'));
    expect(healthy.out).toMatch(new RegExp(`^${nodeId} +consumer\\.low_priority +yes +running`, 'm'));
    expect(healthy.out).toMatch(/^\(broker\) +queue low_priority +yes +consumed +- +1 consumer\(s\)$/m);

    // low_priority's consumer stops pulling, and nobody recorded a pause: the broker counts no consumer.
    await n.node.runtime.ask<ConsumerMessage, 'pause'>(consumerName('low_priority'), 'pause', { reason: 'stopped by the test' }, 5_000);
    await untilExit(1, 'check-health to see low_priority without consumer');
    const down = await cli();
    expect(down.code, down.out).toBe(1);
    expect(down.out).toMatch(/^\(broker\) +queue low_priority +yes +no consumer +- +0 consumer\(s\)$/m);
    expect(down.out).toContain('PROBLEM queue low_priority has no consumer and is not paused');
    expect(down.out).not.toMatch(/PROBLEM queue (urgent|high_priority|normal)/);

    // An admin pauses it: no consumer on purpose.
    const res = await fetch(`${n.node.apiUrl}/admin/queues/low_priority/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${n.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'campaign tomorrow' }),
    });
    expect(res.status).toBe(200);
    const paused = await cli();
    expect(paused.code, paused.out).toBe(0);
    expect(paused.out).toMatch(/^\(broker\) +queue low_priority +yes +paused +- +0 consumer\(s\)$/m);
  }, 180_000);
});
