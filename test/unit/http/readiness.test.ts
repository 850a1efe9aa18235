// Liveness never touches the actor system; readiness asks the control actor and names what is not ready.
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../../src/contracts/supervision.js';
import { ActorRestartingError } from '../../../src/errors/actor-errors.js';
import { fakeGateway, type Harness, readProblem, startHttp } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const part = (name: string, ready: boolean, required = true) => ({ name, ready, required, state: ready ? ('running' as const) : ('backing-off' as const) });

describe('health', () => {
  it('answers /health/live without asking the actor system', async () => {
    const gateway = fakeGateway();
    harness = await startHttp({ gateway });
    const res = await harness.fetch('/health/live');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'live' });
    expect(gateway.calls).toEqual([]);
  });

  it('answers /health/ready with the readiness report when every required part is ready', async () => {
    const report: ReadinessReport = { ready: true, role: 'api', parts: [part('postgres', true), part('sms', false, false)] };
    harness = await startHttp({ gateway: fakeGateway({ 'control.readiness': () => report }) });
    const res = await harness.fetch('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(report);
  });

  it('answers 503 NOT_READY naming the part that is not ready, with every part', async () => {
    const report: ReadinessReport = { ready: false, role: 'api', parts: [part('postgres', false), part('cache', true)] };
    harness = await startHttp({ gateway: fakeGateway({ 'control.readiness': () => report }) });
    const res = await harness.fetch('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await readProblem(res);
    expect(body).toMatchObject({ code: 'NOT_READY', detail: 'Not ready: postgres.' });
    expect(body.parts).toEqual(report.parts);
  });

  it('answers 503 NOT_READY naming control when the readiness query fails, with the reason on the ops port only', async () => {
    const gateway = fakeGateway({ 'control.readiness': () => { throw new ActorRestartingError('control'); } });
    harness = await startHttp({ gateway });
    const res = await harness.fetch('/health/ready');
    expect(res.status).toBe(503);
    const body = await readProblem(res);
    expect(body).toMatchObject({ code: 'NOT_READY', detail: 'Not ready: control.' });
    expect(body.parts).toEqual([{ name: 'control', ready: false, required: true }]);
    await harness.close();

    harness = await startHttp({ gateway, surface: 'ops' });
    expect((await readProblem(await harness.fetch('/health/ready'))).parts).toEqual([{ name: 'control', ready: false, required: true, detail: 'ACTOR_RESTARTING' }]);
  });

  it('shows each part’s detail and the queue report on the ops port, names and states only on the public one', async () => {
    const report: ReadinessReport = {
      ready: true,
      role: 'api',
      parts: [{ ...part('postgres', true) }, { ...part('cache', false, false), detail: 'Redis unreachable (connect ECONNREFUSED 10.0.0.7:6379)' }],
      queues: { state: 'known', queues: [{ queue: 'urgent', consumers: 0, flagged: true, paused: false }, { queue: 'low_priority', consumers: 0, flagged: false, paused: true }], flagged: ['urgent'], paused: ['low_priority'] },
    };
    const gateway = fakeGateway({ 'control.readiness': () => report });
    harness = await startHttp({ gateway, surface: 'ops' });
    expect(await (await harness.fetch('/health/ready')).json()).toEqual(report);
    await harness.close();

    harness = await startHttp({ gateway });
    expect(await (await harness.fetch('/health/ready')).json()).toEqual({ ready: true, role: 'api', parts: [part('postgres', true), part('cache', false, false)] });
  });
});
