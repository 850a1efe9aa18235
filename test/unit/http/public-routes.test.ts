// The committed public-route list and the routes declared `auth: 'public'` are the same set, or the app does not start.
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../http/app.js';
import { createOpenApiRegistry, generateOpenApiDocument } from '../../../http/openapi.js';
import { assertPublicRoutes, PUBLIC_ROUTES } from '../../../http/public-routes.js';
import { defineRoute } from '../../../http/route.js';
import { allRoutes } from '../../../http/routes/route-catalogue.js';
import { loadConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/logger.js';
import { testTokenVerifier } from '../../support/tokens.js';
import { fakeGateway } from './http-harness.js';

const routes = allRoutes({ gateway: fakeGateway(), openApiDocument: () => generateOpenApiDocument(createOpenApiRegistry()) });

describe('public routes', () => {
  it('lists exactly the routes declared public', () => {
    const declared = routes.filter((r) => r.auth === 'public').map((r) => r.key);
    expect([...declared].sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('refuses to create the app when a route is declared public but not listed', () => {
    const sneaky = defineRoute({ method: 'GET', path: '/v1/sneaky', summary: 'x', auth: 'public', responses: { 200: 'ok' }, handler() {} });
    expect(() =>
      createHttpApp({ config: loadConfig({ APP_ENV: 'test' }), log: silentLogger(), gateway: fakeGateway(), auth: testTokenVerifier(), surface: 'api', extraRoutes: [sneaky] }),
    ).toThrow(/GET \/v1\/sneaky is declared public but not in http\/public-routes.ts/);
  });

  it('refuses a listed route that is not declared public', () => {
    expect(() => assertPublicRoutes(routes, [...PUBLIC_ROUTES, 'POST /admin/supervisors/:name/restart'])).toThrow(
      /POST \/admin\/supervisors\/:name\/restart is listed in http\/public-routes.ts but not declared public/,
    );
  });
});
