// The zod schema of a problem response (RFC 9457), published once in the OpenAPI components.
import { z } from 'zod';
import { ACTOR_STATES } from '../../src/contracts/supervision.js';

export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: 'urn:samaconso:problem:validation-failed' }),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: 'Stable machine-readable code; branch on this, never on text.', example: 'VALIDATION_FAILED' }),
    detail: z.string(),
    requestId: z.string().meta({ description: 'Also in the X-Request-Id header; quote it when reporting a problem.' }),
    fields: z
      .array(z.object({ path: z.string().meta({ example: 'body.reason' }), message: z.string() }))
      .optional()
      .meta({ description: 'On VALIDATION_FAILED: every offending field.' }),
    parts: z
      .array(z.object({ name: z.string(), ready: z.boolean(), required: z.boolean().optional(), state: z.enum(ACTOR_STATES).optional(), detail: z.string().optional() }))
      .optional()
      .meta({ description: 'On NOT_READY: every part of the process and whether it is ready.' }),
    node: z.string().optional().meta({ description: 'On NODE_NOT_FOUND and NODE_TIMEOUT: the node addressed.' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem, served as application/problem+json.' });
