// Liveness (the process answers) and readiness (every part that counts is ready), for probes and load balancers.
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import { errorCode } from '../../src/errors/app-error.js';
import { NotReadyError } from '../http-errors.js';
import { defineRoute, type RouteDefinition } from '../route.js';
import { ProblemSchema } from '../schemas/problem.js';
import { ReadinessReportSchema } from '../schemas/supervision.js';

export function healthRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
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
      auth: 'public',
      responses: {
        200: ReadinessReportSchema,
        503: { description: 'Not ready: a NOT_READY problem whose `parts` lists every part.', contentType: 'application/problem+json', schema: ProblemSchema },
      },
      async handler(ctx) {
        ctx.set('Cache-Control', 'no-store');
        const report = await deps.gateway.ask('control', 'readiness', {}).catch((e: unknown) => {
          throw new NotReadyError([{ name: 'control', ready: false, required: true, detail: errorCode(e) ?? 'no reply' }], { cause: e });
        });
        if (!report.ready) throw new NotReadyError(report.parts);
        ctx.body = report;
      },
    }),
  ];
}
