// The API docs page: Swagger UI served from the swagger-ui-dist package (no CDN), pointed at /openapi.json.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { NotFoundError } from '../http-errors.js';
import { defineRoute, type RouteDefinition } from '../route.js';

const ASSETS_PATH = '/docs/assets';
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Our initializer, served as a file so the page's CSP can forbid inline scripts. */
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

type Asset = { readonly type: string } & ({ readonly file: string } | { readonly text: string });

/** The only files served under /docs/assets: a fixed list, so no path can reach elsewhere on disk. */
const ASSETS: Readonly<Record<string, Asset>> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'favicon-32x32.png': { type: 'image/png', file: 'favicon-32x32.png' },
  'docs-initializer.js': { type: 'text/javascript; charset=utf-8', text: INITIALIZER },
};

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SamaConso API</title>
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/docs-initializer.js"></script>
</body>
</html>
`;

/** Scripts and styles from this origin only; Swagger UI needs inline style attributes and data: images. */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function docsRoutes(): RouteDefinition[] {
  const cache = new Map<string, Buffer>();
  return [
    defineRoute({
      method: 'GET',
      path: '/docs',
      summary: 'Interactive API docs (Swagger UI) for /openapi.json.',
      auth: 'public',
      responses: { 200: { description: 'The docs page.', contentType: 'text/html' } },
      handler(ctx) {
        ctx.set('Content-Security-Policy', PAGE_CSP);
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = PAGE;
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${ASSETS_PATH}/:file`,
      summary: 'A static file of the docs page.',
      auth: 'public',
      request: { params: z.object({ file: z.string().max(64) }) },
      responses: { 200: { description: 'The file.', contentType: 'application/octet-stream' }, 404: 'No such asset.' },
      async handler(ctx, { params }) {
        const asset = Object.hasOwn(ASSETS, params.file) ? ASSETS[params.file] : undefined;
        if (!asset) throw new NotFoundError(`No docs asset named ${params.file}.`);
        let bytes = cache.get(params.file);
        if (!bytes) {
          bytes = 'text' in asset ? Buffer.from(asset.text) : await readFile(join(swaggerUiDir, asset.file));
          cache.set(params.file, bytes);
        }
        ctx.set('Cache-Control', 'public, max-age=3600');
        ctx.type = asset.type;
        ctx.body = bytes;
      },
    }),
  ];
}
