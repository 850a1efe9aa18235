// /openapi.json is an OpenAPI 3.1 document of every route; /docs is Swagger UI served from this origin only.
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenApiRegistry, generateOpenApiDocument, openApiPath } from '../../../http/openapi.js';
import { routesBySurface } from '../../../http/routes/route-catalogue.js';
import { fakeGateway, startHttp, type Harness } from './http-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface Operation {
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
}

describe('OpenAPI document and docs page', () => {
  it('serves OpenAPI 3.1 listing every api route, with the bearer scheme on private ones', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: object } };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
    const { api } = routesBySurface({ gateway: fakeGateway(), openApiDocument: () => generateOpenApiDocument(createOpenApiRegistry()) });
    for (const route of api) {
      const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(op, route.key).toBeDefined();
      if (route.auth === 'public') expect(op?.security, route.key).toBeUndefined();
      else {
        expect(op?.security, route.key).toEqual([{ bearerAuth: [] }]);
        expect(Object.keys(op?.responses ?? {}), route.key).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    const opCount = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    // Every router route, plus the live inbox WebSocket (served on the upgrade event, documented all the same).
    expect(opCount).toBe(api.length + 1);
    expect(doc.paths['/v1/me/notifications/live']?.get?.security).toEqual([{ bearerAuth: [] }]);
  });

  it('serves /docs with local assets only and a CSP, and its assets', async () => {
    harness = await startHttp();
    const page = await harness.fetch('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\/|src="\/\/|href="\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toContain('/docs/assets/swagger-ui-bundle.js');
    for (const asset of assets) expect((await harness.fetch(asset)).status, asset).toBe(200);
    const init = await (await harness.fetch('/docs/assets/docs-initializer.js')).text();
    expect(init).toContain("url: '/openapi.json'");
  });

  it('answers an unknown docs asset with 404', async () => {
    harness = await startHttp();
    const res = await harness.fetch('/docs/assets/..%2Fpackage.json');
    expect(res.status).toBe(404);
  });
});
