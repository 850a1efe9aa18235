// One log line per request: method, path (never the query string, which may carry secrets), status, duration.
import type { HttpMiddleware } from '../http-state.js';

/** Probes and scrapes hit these every few seconds: logged at debug unless they fail. */
const PROBE_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

export function accessLog(level: { isLevelEnabled(level: string): boolean }): HttpMiddleware {
  // The level is read per request (it may be changed at run time); a disabled line costs no object and no child logger.
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const probe = ctx.status < 400 && PROBE_PATHS.has(ctx.path);
      if (level.isLevelEnabled(probe ? 'debug' : 'info')) {
        const line = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10 };
        if (probe) ctx.state.log.debug(line, 'request');
        else ctx.state.log.info(line, 'request');
      }
    }
  };
}
