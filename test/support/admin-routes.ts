// Every private /admin route of the route catalogue (never a hand list: a route added later is checked too), and
// what a caller of a given role gets from each of them on a running API.
import { createOpenApiRegistry, generateOpenApiDocument } from '../../http/openapi.js';
import type { RouteDefinition } from '../../http/route.js';
import { allRoutes } from '../../http/routes/route-catalogue.js';
import type { UserRole } from '../../src/contracts/caller.js';
import { mintToken } from './tokens.js';

export function privateAdminRoutes(): RouteDefinition[] {
  const deps = { gateway: { ask: () => Promise.reject(new Error('not asked')) }, openApiDocument: () => generateOpenApiDocument(createOpenApiRegistry()) };
  return allRoutes(deps).filter((r) => r.path.startsWith('/admin') && r.auth !== 'public');
}

/** `METHOD /path` → the status a `role` token got (path parameters filled with `low_priority`, a plausible body sent). */
export async function statusesFor(apiUrl: string, role: UserRole): Promise<Record<string, number>> {
  const token = await mintToken({ role });
  const statuses: Record<string, number> = {};
  for (const route of privateAdminRoutes()) {
    const res = await fetch(`${apiUrl}${route.path.replace(/:[A-Za-z]+/g, 'low_priority')}`, {
      method: route.method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(route.method === 'GET' ? {} : { body: JSON.stringify({ reason: 'not allowed' }) }),
    });
    await res.body?.cancel();
    statuses[route.key] = res.status;
  }
  return statuses;
}
