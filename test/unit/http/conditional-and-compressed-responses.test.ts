// Reads carry a weak ETag and answer 304 when unchanged; large bodies are compressed.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttp, type Harness } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** The raw response headers (fetch would hide the encoding by decompressing). */
function rawHeaders(url: string, headers: Record<string, string>): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    })
      .on('error', reject)
      .end();
  });
}

describe('conditional and compressed responses', () => {
  it('answers 304 to If-None-Match with the current ETag', async () => {
    harness = await startHttp();
    const first = await harness.fetch('/openapi.json');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^W\/"/);
    const again = await harness.fetch('/openapi.json', { headers: { 'If-None-Match': tag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('compresses a large JSON body but not a tiny one', async () => {
    harness = await startHttp();
    expect((await rawHeaders(`${harness.url}/openapi.json`, { 'Accept-Encoding': 'gzip' }))['content-encoding']).toBe('gzip');
    expect((await rawHeaders(`${harness.url}/health/live`, { 'Accept-Encoding': 'gzip' }))['content-encoding']).toBeUndefined();
  });

  it('answers a client that names no encoding in identity, still varying on Accept-Encoding for caches', async () => {
    harness = await startHttp();
    const plain = await rawHeaders(`${harness.url}/openapi.json`, {});
    expect(plain['content-encoding']).toBeUndefined();
    expect(String(plain['vary'])).toMatch(/Accept-Encoding/);
    const gzip = await rawHeaders(`${harness.url}/openapi.json`, { 'Accept-Encoding': 'gzip' });
    expect(String(gzip['vary'])).toMatch(/Accept-Encoding/);
    // The same body either way: the ETag is computed before compression.
    expect(gzip['etag']).toBe(plain['etag']);
  });
});
