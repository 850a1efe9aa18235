// The on-call dashboard's page (/admin) and its static files: public, holding no data (every number on the page comes
// from admin-only calls made after signing in), served from http/dashboard/ with no CDN and no build step.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { NotFoundError } from '../http-errors.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export const DASHBOARD_PATH = '/admin';
const ASSETS_PATH = '/admin/assets';
const ASSETS_DIR = new URL('../dashboard/', import.meta.url);

const JS = 'text/javascript; charset=utf-8';

/** The only files served under /admin/assets: a fixed list, so no path can reach elsewhere on disk. */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> = {
  'dashboard.js': JS,
  'session.js': JS,
  'event-stream.js': JS,
  'actions.js': JS,
  'render-cluster.js': JS,
  'render-panels.js': JS,
  'charts.js': JS,
  'dom.js': JS,
  'dashboard.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * Only this origin's files; no inline script or style (agent-written text can never become code or styling);
 * Trusted Types with no policy, so even a string handed to innerHTML by mistake throws instead of parsing markup.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

export function onCallPageRoutes(): RouteDefinition[] {
  const cache = new Map<string, Buffer>();
  const read = async (file: string): Promise<Buffer> => {
    let bytes = cache.get(file);
    if (!bytes) {
      bytes = await readFile(new URL(file, ASSETS_DIR));
      cache.set(file, bytes);
    }
    return bytes;
  };
  return [
    defineRoute({
      method: 'GET',
      path: DASHBOARD_PATH,
      summary: 'The on-call dashboard (a page holding no data: it signs in as an admin and reads /admin/events).',
      auth: 'public',
      responses: { 200: { description: 'The page.', contentType: 'text/html' } },
      async handler(ctx) {
        ctx.set('Content-Security-Policy', DASHBOARD_CSP);
        ctx.set('Cache-Control', 'no-cache');
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = await read('index.html');
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${ASSETS_PATH}/:file`,
      summary: "A static file of the on-call dashboard's page.",
      auth: 'public',
      request: { params: z.object({ file: z.string().max(64) }) },
      responses: { 200: { description: 'The file.', contentType: 'application/octet-stream' }, 404: 'No such asset.' },
      async handler(ctx, { params }) {
        const type = Object.hasOwn(DASHBOARD_ASSETS, params.file) ? DASHBOARD_ASSETS[params.file] : undefined;
        if (!type) throw new NotFoundError(`No dashboard asset named ${params.file}.`);
        // Revalidated each time (the ETag answers 304): files change with the code, and carry no version in their name.
        ctx.set('Cache-Control', 'no-cache');
        ctx.type = type;
        ctx.body = await read(params.file);
      },
    }),
  ];
}
