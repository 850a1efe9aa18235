// A route whose body fields are all optional takes no body at all; a required field left out is named in words.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../support/tokens.js';
import { fakeGateway, type Harness, readProblem, startHttp } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const LOGOUT = '/v1/auth/logout';
const RESTART = '/admin/supervisors/consumers/restart';

/** A POST with no body and neither Content-Length nor Content-Type, as `curl -X POST URL` sends it. */
async function bareRequest(h: Harness, path: string, token: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(h.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
  });
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body };
}

const customer = () => mintToken({ role: 'customer' });
const admin = () => mintToken({ role: 'admin' });
const logoutGateway = () => fakeGateway({ 'accounts.logout': () => ({ ended: 1 }) });

describe('optional bodies', () => {
  it('takes a logout with no body at all (no Content-Length, no Content-Type) as all=false', async () => {
    const gateway = logoutGateway();
    harness = await startHttp({ gateway });
    const res = await bareRequest(harness, LOGOUT, await customer());
    expect(res.status).toBe(200);
    expect(gateway.calls.map((c) => (c.payload as { all: boolean }).all)).toEqual([false]);
  });

  it('takes a logout with Content-Length: 0, with or without a JSON Content-Type', async () => {
    const gateway = logoutGateway();
    harness = await startHttp({ gateway });
    const headers = { Authorization: `Bearer ${await customer()}` };
    const untyped = await harness.fetch(LOGOUT, { method: 'POST', headers: { ...headers, 'Content-Length': '0' } });
    const typed = await harness.fetch(LOGOUT, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: '' });
    expect([untyped.status, typed.status]).toEqual([200, 200]);
    expect(gateway.calls.map((c) => (c.payload as { all: boolean }).all)).toEqual([false, false]);
  });

  it('still reads an optional body that is given', async () => {
    const gateway = logoutGateway();
    harness = await startHttp({ gateway });
    const res = await harness.fetch(LOGOUT, { method: 'POST', headers: { Authorization: `Bearer ${await customer()}`, 'Content-Type': 'application/json' }, body: '{"all":true}' });
    expect(res.status).toBe(200);
    expect(gateway.calls.map((c) => (c.payload as { all: boolean }).all)).toEqual([true]);
  });

  it('answers an on-call restart without a body with 400 whose detail says that body.reason is required', async () => {
    const gateway = fakeGateway({ 'control-plane.restart-supervisor': () => ({ restarted: 'consumers' }) });
    harness = await startHttp({ gateway });
    const res = await bareRequest(harness, RESTART, await admin());
    expect(res.status).toBe(400);
    const problem = JSON.parse(res.body) as { code: string; detail: string; fields: unknown };
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.fields).toEqual([{ path: 'body.reason', message: 'is required' }]);
    expect(problem.detail).toBe('body.reason is required.');
    expect(gateway.calls).toEqual([]);
  });

  it('names every missing required field in the detail, also when the body is an empty object', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"deviceModel":"Pixel 8","platform":"android"}' });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.detail).toBe('body.phone and body.pin are required.');
    const restart = await harness.fetch(RESTART, { method: 'POST', headers: { Authorization: `Bearer ${await admin()}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect((await readProblem(restart)).detail).toBe('body.reason is required.');
  });

  it('marks a body whose fields are all optional as not required in the OpenAPI document', async () => {
    harness = await startHttp();
    const doc = (await (await harness.fetch('/openapi.json')).json()) as { paths: Record<string, Record<string, { requestBody?: { required?: boolean } }>> };
    expect(doc.paths['/v1/auth/logout']!.post!.requestBody?.required).toBe(false);
    expect(doc.paths['/admin/supervisors/{name}/restart']!.post!.requestBody?.required).toBe(true);
    expect(doc.paths['/v1/auth/login']!.post!.requestBody?.required).toBe(true);
  });
});
