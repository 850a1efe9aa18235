// On-call: this process's supervision tree, and restarting one supervisor.
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import { defineRoute, type RouteDefinition } from '../route.js';
import { TreeNodeSchema } from '../schemas/supervision.js';

/** A supervisor's name as /admin/supervisors shows it (names are unique in a process), e.g. `resources`. */
const SupervisorName = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be a supervisor name such as resources')
  .meta({ example: 'resources' });

export function supervisorRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/supervisors',
      summary: "This process's supervision tree with each actor's state and stats.",
      auth: ['admin'],
      responses: { 200: TreeNodeSchema },
      async handler(ctx) {
        ctx.body = await deps.gateway.ask('control', 'tree', {});
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/supervisors/:name/restart',
      summary: 'Restart one supervisor of this process by name, e.g. resources.',
      description:
        'Stops the supervisor and all its descendants (their cleanup runs, pending queries get ACTOR_RESTARTING) ' +
        'and starts them again; no restart budget is spent. The root cannot be restarted this way (400); an ' +
        'unknown name is a 404 SUPERVISOR_NOT_FOUND.',
      auth: ['admin'],
      request: {
        params: z.object({ name: SupervisorName }),
        body: z.object({ reason: z.string().trim().min(1).max(200).meta({ description: 'Why, for the audit log.' }) }),
      },
      responses: { 202: z.object({ restarted: z.string() }) },
      async handler(ctx, { params, body }) {
        const reply = await deps.gateway.ask('control', 'restart-supervisor', { name: params.name, reason: body.reason });
        ctx.status = 202;
        ctx.body = reply;
      },
    }),
  ];
}
