// A body route reads JSON only, within the size limit, and names every invalid field.
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTE_DEADLINES_MS } from '../../../http/deadlines.js';
import { mintToken } from '../../support/tokens.js';
import { fakeGateway, type Harness, readProblem, startHttp } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const RESTART = '/admin/supervisors/resources/restart';

async function post(h: Harness, body: string, contentType = 'application/json'): Promise<Response> {
  return h.fetch(RESTART, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await mintToken({ role: 'admin' })}`, 'Content-Type': contentType },
    body,
  });
}

describe('request bodies', () => {
  it('restarts the supervisor named by the URL-encoded path and answers 202', async () => {
    const outcome = (p: unknown) => ({ supervisor: (p as { name: string }).name, reason: 'postgres pool wedged', auditId: '1', results: [{ node: 'api-1', outcome: 'ok' }] });
    const gateway = fakeGateway({ 'control-plane.restart-supervisor': outcome });
    harness = await startHttp({ gateway });
    const res = await post(harness, JSON.stringify({ reason: 'postgres pool wedged' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual(outcome({ name: 'resources' }));
    expect(gateway.calls).toEqual([
      {
        actor: 'control-plane',
        type: 'restart-supervisor',
        payload: { name: 'resources', reason: 'postgres pool wedged', caller: expect.objectContaining({ role: 'admin' }) },
        deadlineMs: ROUTE_DEADLINES_MS.controlCommand,
      },
    ]);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    harness = await startHttp();
    const res = await post(harness, '{"reason": ');
    expect(res.status).toBe(400);
    expect(await readProblem(res)).toMatchObject({ code: 'MALFORMED_JSON', status: 400 });
  });

  it('answers a wrongly typed field with 400 VALIDATION_FAILED naming body.reason', async () => {
    harness = await startHttp();
    const res = await post(harness, JSON.stringify({ reason: 5 }));
    expect(res.status).toBe(400);
    const body = await readProblem(res);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.fields).toEqual([{ path: 'body.reason', message: expect.any(String) }]);
  });

  it('names an invalid path parameter as params.name', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/admin/supervisors/..%2F%3Cx%3E/restart', {
      method: 'POST',
      headers: { Authorization: `Bearer ${await mintToken({ role: 'admin' })}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'x' }),
    });
    expect(res.status).toBe(400);
    expect((await readProblem(res)).fields!.map((f: { path: string }) => f.path)).toEqual(['params.name']);
  });

  it('answers a body that is not JSON with 415', async () => {
    harness = await startHttp();
    const res = await post(harness, 'reason=x', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(await readProblem(res)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('answers a body over the limit with 413', async () => {
    harness = await startHttp({ env: { JSON_BODY_LIMIT: '1kb' } });
    const res = await post(harness, JSON.stringify({ reason: 'x'.repeat(2000) }));
    expect(res.status).toBe(413);
    expect(await readProblem(res)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});
