// Liveness (the process answers) and readiness (every part that counts is ready), for probes and load balancers.
// The API port is public: its readiness shows each part's name and state only. The ops port adds each part's
// detail (which can name hosts, ports and a driver's error) and the queue report.
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import type { ReadinessReport } from '../../src/contracts/supervision.js';
import { errorCode } from '../../src/errors/app-error.js';
import { NotReadyError } from '../http-errors.js';
import { defineRoute, type RouteDefinition } from '../route.js';
import { ProblemSchema } from '../schemas/problem.js';
import { ReadinessReportSchema } from '../schemas/supervision.js';

/** `details`: serve each part's detail and the queue report (the ops port), or names and states only (the public port). */
export function healthRoutes(deps: { gateway: Gateway }, details: boolean): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/health/live',
      summary: 'Liveness: the process answers HTTP (the actor system is not consulted).',
      auth: 'public',
      responses: { 200: z.object({ status: z.literal('live') }) },
      handler(ctx) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { status: 'live' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/health/ready',
      summary: 'Readiness of every part that counts for this role.',
      description: details ? "With each part's detail and the queue report (ops port)." : "Each part's name and state only; the ops port adds each part's detail and the queue report.",
      auth: 'public',
      responses: {
        200: ReadinessReportSchema,
        503: { description: 'Not ready: a NOT_READY problem whose `parts` lists every part.', contentType: 'application/problem+json', schema: ProblemSchema },
      },
      async handler(ctx) {
        ctx.set('Cache-Control', 'no-store');
        const report = await deps.gateway.ask('control', 'readiness', {}).catch((e: unknown) => {
          throw new NotReadyError([{ name: 'control', ready: false, required: true, ...(details ? { detail: errorCode(e) ?? 'no reply' } : {}) }], { cause: e });
        });
        const shown = details ? report : namesAndStates(report);
        if (!shown.ready) throw new NotReadyError(shown.parts);
        ctx.body = shown;
      },
    }),
  ];
}

function namesAndStates(report: ReadinessReport): ReadinessReport {
  return { ready: report.ready, role: report.role, parts: report.parts.map(({ name, state, ready, required }) => ({ name, state, ready, required })) };
}
