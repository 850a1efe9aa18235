// Messages of the customer-data actor (the utility's data read from its SQL Server sources) and their HTTP shapes.
import { z } from 'zod';
import { phoneField } from '../domain/phone.js';
import type { Reply } from './reply.js';

/** A notice number as BI_ODS writes NUM_AVIS: digits only, so nothing else ever reaches a query or a limiter key. */
export const noticeNumberField = z
  .string()
  .regex(/^\d{4,20}$/, 'must be 4 to 20 digits')
  .meta({ example: '400001234', description: 'The subscription request ("avis") number, 4 to 20 digits.' });

export const subscriptionParams = z.object({ noticeNumber: noticeNumberField });

export const subscriptionQuery = z.object({
  phone: phoneField.meta({ example: '+221771234567', description: 'The phone on file for the request, in any usual format.' }),
});

export const subscriptionStepSchema = z.object({
  step: z.number().int().meta({ description: 'CODE_ETAPE: the steps come in this order.' }),
  description: z.string().nullable(),
  doneAt: z.string().nullable().meta({ description: 'ISO 8601; null until the step is done.' }),
});

/** The fields an answer read from a source carries when the source is unreachable and an older answer is served. */
export const staleFields = {
  stale: z.literal(true).optional().meta({ description: 'Present when the source is unreachable and an older answer is served.' }),
  ageMs: z.number().int().optional().meta({ description: 'With `stale`: how old the answer is, in milliseconds.' }),
};

export const subscriptionRequestSchema = z.object({
  noticeNumber: z.string(),
  status: z.string().nullable().meta({ description: "The request's status (STATUT_AVIS)." }),
  updatedAt: z.string().nullable().meta({ description: 'ISO 8601: when BI_ODS last updated the request.' }),
  steps: z.array(subscriptionStepSchema),
  ...staleFields,
});

export type SubscriptionRequest = z.output<typeof subscriptionRequestSchema>;

export interface SubscriptionLookupInput {
  readonly noticeNumber: string;
  /** E.164, as phoneField yields it. */
  readonly phone: string;
  /** The client address, for the per-address limit. */
  readonly ip: string;
}

export type CustomerDataMessage = { type: 'subscription'; input: SubscriptionLookupInput; replyTo: Reply<SubscriptionRequest> };
