// On-call: the cluster's alive nodes, their supervision trees, and restarting one supervisor on one node or on all.
import { z } from 'zod';
import type { Gateway } from '../../src/contracts/gateway.js';
import { ROUTE_DEADLINES_MS } from '../deadlines.js';
import { defineRoute, type RouteDefinition } from '../route.js';
import { ClusterNodeSchema, NodeTreeSchema, RestartOutcomeSchema } from '../schemas/control-plane.js';

/** A supervisor's name as /admin/supervisors shows it (names are unique in a process), e.g. `resources`. */
const SupervisorName = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be a supervisor name such as resources')
  .meta({ example: 'resources' });

/** A node id as /admin/nodes shows it (NODE_ID). */
const NodeId = z.string().min(1).max(200).meta({ example: 'worker-1', description: 'A node id as GET /admin/nodes lists it.' });

export function supervisorRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/nodes',
      summary: 'The alive nodes of the cluster (from the node registry), with the age of their last tree snapshot.',
      description: 'A node is listed exactly while the node registry takes it for alive (heartbeats in PostgreSQL).',
      auth: ['admin'],
      responses: { 200: z.object({ nodes: z.array(ClusterNodeSchema) }) },
      async handler(ctx) {
        ctx.body = await deps.gateway.ask('control-plane', 'nodes', {});
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/admin/supervisors',
      summary: "Every alive node's supervision tree with each actor's state and stats (its last snapshot).",
      description: '`node` narrows to one node: 404 `NODE_NOT_FOUND` when it is not alive or has sent no snapshot yet.',
      auth: ['admin'],
      request: { query: z.object({ node: NodeId.optional() }) },
      responses: { 200: z.object({ nodes: z.array(NodeTreeSchema) }) },
      async handler(ctx, { query }) {
        ctx.body = await deps.gateway.ask('control-plane', 'trees', query.node === undefined ? {} : { node: query.node });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/admin/supervisors/:name/restart',
      summary: 'Restart one supervisor by name (e.g. consumers) on one node, or on every alive node running it.',
      description:
        'The command goes through the control plane to the node(s) owning the supervisor, whichever API instance took ' +
        'the call. On each, the supervisor and its descendants are stopped (the queries under way answer first, bounded; ' +
        'HTTP requests arriving meanwhile wait for the restart) and started again, the rest of the node serving on; no ' +
        'restart budget is spent. Each ' +
        "node's answer is in `results` (`timeout` when it did not answer within CONTROL_COMMAND_TIMEOUT_MS). An " +
        'operations_audit row records who, when, why, the node(s) and the outcome, whatever it is. With `node`: ' +
        '404 `NODE_NOT_FOUND` when it is not alive, 504 `NODE_TIMEOUT` naming it when it did not answer. The root ' +
        'cannot be restarted this way (400); a name no node runs is a 404 `SUPERVISOR_NOT_FOUND`.',
      auth: ['admin'],
      request: {
        params: z.object({ name: SupervisorName }),
        body: z.object({
          reason: z.string().trim().min(1).max(200).meta({ description: 'Why, for the audit log.' }),
          node: NodeId.optional().meta({ description: 'The node to restart it on; absent: every alive node running it.' }),
        }),
      },
      responses: { 202: RestartOutcomeSchema },
      async handler(ctx, { params, body }, caller) {
        const outcome = await deps.gateway.ask(
          'control-plane',
          'restart-supervisor',
          { name: params.name, reason: body.reason, caller, ...(body.node !== undefined ? { node: body.node } : {}) },
          { deadlineMs: ROUTE_DEADLINES_MS.controlCommand },
        );
        ctx.status = 202;
        ctx.body = outcome;
      },
    }),
  ];
}
