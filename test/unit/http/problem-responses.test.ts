// Every failure answers application/problem+json with a stable code, a status from one table and the request id.
import { afterEach, describe, expect, it } from 'vitest';
import { defineRoute } from '../../../http/route.js';
import { ActorCrashedError, ActorRestartingError, QueryTimeoutError } from '../../../src/errors/actor-errors.js';
import { ServiceUnavailableError } from '../../../src/errors/app-error.js';
import { mintToken } from '../../support/tokens.js';
import { fakeGateway, type Harness, readProblem, startHttp } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const adminAuth = async () => ({ Authorization: `Bearer ${await mintToken({ role: 'admin' })}` });

const throwingRoute = defineRoute({
  method: 'GET',
  path: '/test/throws',
  summary: 'A handler with a bug.',
  auth: ['admin'],
  responses: { 200: 'never' },
  handler() {
    throw new TypeError('secret internals: password=hunter2');
  },
});

describe('problem responses', () => {
  it('answers an unknown route with 404 NOT_FOUND as problem+json', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/v1/nothing-here', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await readProblem(res);
    expect(body).toMatchObject({ status: 404, code: 'NOT_FOUND', type: 'urn:samaconso:problem:not-found', title: 'Not Found' });
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/admin/supervisors/root/restart');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await readProblem(res)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('answers a throwing handler with 500 INTERNAL, the request id and no internals, and logs the stack', async () => {
    harness = await startHttp({ extraRoutes: [throwingRoute] });
    const res = await harness.fetch('/test/throws', { headers: await adminAuth() });
    expect(res.status).toBe(500);
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
    expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'requestId', 'status', 'title', 'type']);
    expect(text).not.toMatch(/hunter2|TypeError|stack|\.ts:/);
    const logged = harness.logs.find((l) => l.msg === 'request failed unexpectedly');
    expect(logged?.reqId).toBe(body.requestId);
    expect(JSON.stringify(logged?.err)).toMatch(/hunter2.*at /s);
  });

  it('maps a gateway QUERY_TIMEOUT to 504', async () => {
    const gateway = fakeGateway({ 'control-plane.trees': () => { throw new QueryTimeoutError('control-plane', 'trees', 5000); } });
    harness = await startHttp({ gateway });
    const res = await harness.fetch('/admin/supervisors', { headers: await adminAuth() });
    expect(res.status).toBe(504);
    expect(await readProblem(res)).toMatchObject({ code: 'QUERY_TIMEOUT', status: 504 });
  });

  it('maps ACTOR_RESTARTING to 503', async () => {
    const gateway = fakeGateway({ 'control-plane.trees': () => { throw new ActorRestartingError('control-plane'); } });
    harness = await startHttp({ gateway });
    const res = await harness.fetch('/admin/supervisors', { headers: await adminAuth() });
    expect(res.status).toBe(503);
    expect(await readProblem(res)).toMatchObject({ code: 'ACTOR_RESTARTING' });
  });

  it('adds Retry-After to a 503 whose error knows when to retry, and keeps its message (internals) in the log', async () => {
    const gateway = fakeGateway({ 'control-plane.trees': () => { throw new ServiceUnavailableError('postgres', 'PostgreSQL is unavailable: connect ECONNREFUSED 10.0.0.5:5432', 2500, 'DATABASE_UNAVAILABLE'); } });
    harness = await startHttp({ gateway });
    const res = await harness.fetch('/admin/supervisors', { headers: await adminAuth() });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'DATABASE_UNAVAILABLE', detail: 'A part this request needs is unavailable right now; try again later.' });
    expect(text).not.toMatch(/10\.0\.0\.5|5432|ECONNREFUSED/);
    expect(harness.logs.find((l) => l.msg === 'request failed')?.detail).toMatch(/ECONNREFUSED 10\.0\.0\.5:5432/);
  });

  it('answers ACTOR_CRASHED with 503 (the actor restarts; a retry may succeed), naming neither the actor nor the cause', async () => {
    const gateway = fakeGateway({ 'control-plane.trees': () => { throw new ActorCrashedError('control-plane', new Error('boom')); } });
    harness = await startHttp({ gateway });
    const res = await harness.fetch('/admin/supervisors', { headers: await adminAuth() });
    expect(res.status).toBe(503);
    const body = await readProblem(res);
    expect(body.code).toBe('ACTOR_CRASHED');
    expect(body.detail).not.toMatch(/control|boom/);
  });

  it('keeps the request id, CORS and security headers on an error response', async () => {
    harness = await startHttp({ env: { CORS_ORIGINS: 'https://backoffice.example' } });
    const res = await harness.fetch('/v1/nothing-here', { headers: { Origin: 'https://backoffice.example' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('access-control-allow-origin')).toBe('https://backoffice.example');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
