// Messages of the meters actor (a user's links to meters, DOMAIN.md rule 4) and the shapes HTTP validates with.
import { z } from 'zod';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

export const METER_KINDS = ['prepaid', 'postpaid'] as const;
export type MeterKind = (typeof METER_KINDS)[number];

export const METER_LINK_STATES = ['pending', 'active', 'rejected', 'ended'] as const;
export type MeterLinkState = (typeof METER_LINK_STATES)[number];

/**
 * A link id in a path. Any text up to 64 characters is taken and looked up: an id that is not a link, or a link the
 * caller may not see, is the same 404 (DOMAIN.md rule 5), so nothing is learnt from the form of the answer.
 */
export const meterLinkParams = z.object({
  linkId: z.string().min(1).max(64).meta({ example: '3f1c2a9e-3c1b-4a57-9b8e-0d6c1f0e2a11', description: 'The meter link id (from GET /v1/me/meters).' }),
});

/** A link as its user, the meter's owner or an agent sees it: nothing from the utility's data beyond the meter itself. */
export const meterLinkSchema = z.object({
  id: z.string(),
  kind: z.enum(METER_KINDS).meta({ description: 'prepaid (Woyofal): a meter number; postpaid: a contract account.' }),
  meter: z.string().meta({ description: 'The meter number (prepaid) or contract account (postpaid).' }),
  state: z.enum(METER_LINK_STATES),
  owner: z.boolean().meta({ description: "True when the utility's phone on file for the meter is the user's proved phone." }),
  isDefault: z.boolean(),
  agency: z.string().nullable().meta({ description: "The meter's agency, as the utility's data names it." }),
  createdAt: z.string().meta({ description: 'ISO 8601.' }),
  decidedAt: z.string().nullable().meta({ description: 'ISO 8601: when the owner or an agent approved or rejected the link.' }),
});

export type MeterLink = z.output<typeof meterLinkSchema>;

/** POST /v1/me/meters: a prepaid meter number or a postpaid contract account, digits only (spaces around trimmed). */
export const linkMeterBody = z.object({
  kind: z.enum(METER_KINDS),
  meter: z
    .string()
    .trim()
    .regex(/^\d{6,20}$/, 'must be 6 to 20 digits')
    .meta({ example: '14212345678', description: 'The meter number (prepaid) or contract account (postpaid), 6 to 20 digits.' }),
});
export type LinkMeterInput = z.output<typeof linkMeterBody>;

export const meterLinkListSchema = z.object({
  items: z.array(meterLinkSchema).meta({ description: "The caller's pending and active links: the default first, then the newest." }),
});
export type MeterLinkList = z.output<typeof meterLinkListSchema>;

/** A pending request as its deciders see it: the link and the requester's first name, nothing else of theirs. */
export const meterRequestSchema = meterLinkSchema.extend({
  requesterFirstName: z.string().nullable().meta({ description: 'The first name the requester registered with.' }),
});

/** How many pending requests one answer lists at most (the oldest first). */
export const MAX_METER_REQUESTS = 100;

export const meterRequestsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_METER_REQUESTS)
    .default(MAX_METER_REQUESTS)
    .meta({ description: `How many of the oldest pending requests to list, 1 to ${MAX_METER_REQUESTS}.` }),
});

export const meterRequestListSchema = z.object({ items: z.array(meterRequestSchema) });
export type MeterRequestList = z.output<typeof meterRequestListSchema>;

export const METER_DECISIONS = ['approve', 'reject'] as const;
export type MeterDecision = (typeof METER_DECISIONS)[number];

export type MetersMessage =
  | { type: 'link'; caller: Caller; input: LinkMeterInput; ip: string; replyTo: Reply<MeterLink> }
  | { type: 'list'; caller: Caller; replyTo: Reply<MeterLinkList> }
  | { type: 'unlink'; caller: Caller; linkId: string; replyTo: Reply<void> }
  | { type: 'set-default'; caller: Caller; linkId: string; replyTo: Reply<MeterLink> }
  | { type: 'requests'; caller: Caller; limit: number; replyTo: Reply<MeterRequestList> }
  | { type: 'decide'; caller: Caller; linkId: string; decision: MeterDecision; replyTo: Reply<MeterLink> };
