// Catches whatever the routes throw and answers with an application/problem+json body (see http/problem.ts).
import { errorMessage } from '../../src/errors/app-error.js';
import type { Logger } from '../../src/logger.js';
import type { HttpMiddleware } from '../http-state.js';
import { toProblem, type Problem } from '../problem.js';

export function problemResponse(): HttpMiddleware {
  return async (ctx, next) => {
    // Headers set before this point (request id, CORS, security) belong on the error response too.
    const outerHeaders = ctx.res.getHeaders(); // a copy already
    try {
      await next();
    } catch (error) {
      const problem = toProblem(error, ctx.state.requestId);
      logProblem(ctx.state.log, problem, error);
      if (ctx.headerSent) return;
      for (const name of Object.keys(ctx.response.headers)) ctx.remove(name);
      for (const [name, value] of Object.entries(outerHeaders)) {
        if (value !== undefined) ctx.set(name, typeof value === 'number' ? String(value) : value);
      }
      ctx.set({ ...problem.headers });
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      ctx.body = problem.body;
    }
  };
}

function logProblem(log: Logger, problem: Problem, error: unknown): void {
  const { code, status } = problem.body;
  if (problem.unexpected) log.error({ err: error, code, status }, 'request failed unexpectedly');
  // The client got a fixed text; the log keeps what actually went wrong.
  else if (status >= 500) log.warn({ code, status, detail: errorMessage(error) }, 'request failed');
  else log.debug({ code, status }, 'request refused');
}
