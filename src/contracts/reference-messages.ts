// Messages of the reference-data service (agencies, tariff thresholds, notification types, request types): the reads
// any signed-in user makes, the admins' edits, and the shapes HTTP validates them with.
import { z } from 'zod';
import type { NotificationType } from '../domain/notification-type.js';
import { notificationTypeSchema } from '../domain/notification-type.js';
import { PRIORITY_QUEUES } from '../domain/priority.js';
import { storedText, withoutNul } from '../domain/stored-text.js';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

/** What reference_audit calls each kind of row. */
export const REFERENCE_ENTITIES = ['agency', 'tariff_threshold', 'notification_type', 'request_type'] as const;
export type ReferenceEntity = (typeof REFERENCE_ENTITIES)[number];

// ---- codes and values (each bad one is named in the 400)

/** A new agency's code: capitals, digits and hyphens, as the utility writes them (DAKAR-PLATEAU). */
export const agencyCode = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'must be 2 to 40 capital letters, digits or hyphens, not starting with a hyphen')
  .meta({ example: 'DAKAR-PLATEAU' });
/** An agency named in a path: any stored code is looked up (older codes need not follow the new-code pattern). */
const agencyPathCode = withoutNul(z.string().min(1).max(64)).meta({ example: 'DAKAR-PLATEAU', description: 'The agency code.' });
/** Tariff codes as migration 0018 checks them (DPP prepaid, DMP postpaid …). */
export const tariffCode = z.string().regex(/^[A-Z0-9_]{1,16}$/, 'must be 1 to 16 capital letters, digits or underscores').meta({ example: 'DPP' });
const bandNumber = z
  .string()
  .regex(/^[1-9]$/, 'must be a band number from 1 to 9')
  .transform(Number)
  .meta({ example: '2', description: 'The band, 1 (lowest consumption) to 9.' });
/** Notification and request type codes: snake case, as the app and the jobs name them. */
export const typeCode = z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, 'must be 2 to 40 lower-case letters, digits or underscores, starting with a letter');
/** #RRGGBB, stored in capitals. */
export const colour = z
  .string()
  .regex(/^#[0-9A-Fa-f]{6}$/, 'must be a colour as #RRGGBB')
  .transform((c) => c.toUpperCase())
  .meta({ example: '#2E7D32' });
/** numeric(10, 2) in kWh: 0 to 99,999,999.99, cents of a kWh at most. */
const KWH_MAX = 99_999_999.99;
export const kwh = z
  .number()
  .min(0)
  .max(KWH_MAX)
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, 'must have at most 2 decimals')
  .meta({ description: 'kWh, 0 to 99,999,999.99, at most 2 decimals.' });
/** FCM keeps a message 28 days at most; under a minute a push is not worth queueing. */
export const TTL_SECONDS = { min: 60, max: 2_419_200 } as const;
const label = (max: number) => storedText(max).meta({ description: `Trimmed, 1 to ${max} characters.` });
const all = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true')
  .meta({ description: 'Admins only: true includes the withdrawn ones.' });

// ---- agencies

export const agencySchema = z.object({
  code: z.string(),
  name: z.string(),
  active: z.boolean().meta({ description: 'False once withdrawn: kept for the users, links and requests naming it, no longer offered.' }),
  updatedAt: z.string().meta({ description: 'ISO 8601.' }),
});
export type Agency = z.output<typeof agencySchema>;
export const agenciesQuery = z.object({ all });
export const agencyParams = z.object({ code: agencyPathCode });
export const createAgencyBody = z.object({ code: agencyCode, name: label(100) });
export type CreateAgencyInput = z.output<typeof createAgencyBody>;
export const updateAgencyBody = z.object({ name: label(100), active: z.boolean() });
export type UpdateAgencyInput = z.output<typeof updateAgencyBody>;

// ---- tariff thresholds

export const tariffThresholdSchema = z.object({
  tariff: z.string(),
  band: z.number().int(),
  kwhMin: z.number(),
  kwhMax: z.number().nullable().meta({ description: 'Null: the top band, open-ended.' }),
  colour: z.string().meta({ description: 'The colour the app draws the band in, #RRGGBB.' }),
  updatedAt: z.string().meta({ description: 'ISO 8601.' }),
});
export type TariffThreshold = z.output<typeof tariffThresholdSchema>;
export const tariffThresholdsQuery = z.object({ tariff: tariffCode.optional() });
export const tariffBandParams = z.object({ tariff: tariffCode, band: bandNumber });
export const putTariffThresholdBody = z
  .object({ kwhMin: kwh, kwhMax: kwh.nullable(), colour })
  .refine((b) => b.kwhMax === null || b.kwhMax > b.kwhMin, { path: ['kwhMax'], message: 'must be above kwhMin, or null for the top band' });
export type PutTariffThresholdInput = z.output<typeof putTariffThresholdBody>;

// ---- notification types

export const notificationTypeParams = z.object({ code: typeCode });
export const putNotificationTypeBody = z.object({
  label: label(80),
  queue: z.enum(PRIORITY_QUEUES),
  ttlSeconds: z.number().int().min(TTL_SECONDS.min).max(TTL_SECONDS.max).meta({ description: 'How long a push is worth delivering: 60 s to 28 days.' }),
  collapseKey: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be 1 to 40 lower-case letters, digits or underscores, starting with a letter')
    .nullable()
    .default(null)
    .meta({ description: 'A newer push with the same key replaces an older one on the device; null for none.' }),
});
export type PutNotificationTypeInput = z.output<typeof putNotificationTypeBody>;

/** Something the edit did that its author should know; the edit itself succeeded. */
export const referenceWarningSchema = z.discriminatedUnion('code', [
  z.object({
    code: z.literal('JOBS_IN_FLIGHT_KEEP_QUEUE'),
    message: z.string(),
    inFlightJobs: z.number().int().meta({ description: 'Jobs of the type not yet done or failed when the queue changed.' }),
    previousQueue: z.enum(PRIORITY_QUEUES).meta({ description: 'The queue those jobs keep.' }),
  }),
  z.object({
    code: z.literal('JOBS_IN_FLIGHT_MAY_KEEP_SETTINGS'),
    message: z.string(),
    inFlightJobs: z.number().int().meta({ description: 'Jobs of the type not yet done or failed when the TTL or collapse key changed.' }),
    changed: z
      .array(z.enum(['ttlSeconds', 'collapseKey']))
      .meta({ description: "The settings changed: a worker that already read an in-flight job keeps that job's previous values for its remaining batches." }),
  }),
]);
export type ReferenceWarning = z.output<typeof referenceWarningSchema>;
export const notificationTypeEditSchema = notificationTypeSchema.extend({ warnings: z.array(referenceWarningSchema) });
export type NotificationTypeEdit = z.output<typeof notificationTypeEditSchema>;

// ---- request types

export const requestTypeSchema = z.object({
  code: z.string(),
  label: z.string(),
  needsMeter: z.boolean().meta({ description: "True: the request is about one of the customer's meters; false: it names an agency." }),
  active: z.boolean().meta({ description: 'False once withdrawn: no longer offered to new requests.' }),
  updatedAt: z.string().meta({ description: 'ISO 8601.' }),
});
export type RequestType = z.output<typeof requestTypeSchema>;
export const requestTypesQuery = z.object({ all });
export const requestTypeParams = z.object({ code: typeCode });
export const createRequestTypeBody = z.object({ code: typeCode, label: label(80), needsMeter: z.boolean() });
export type CreateRequestTypeInput = z.output<typeof createRequestTypeBody>;
export const updateRequestTypeBody = z.object({ label: label(80), needsMeter: z.boolean(), active: z.boolean() });
export type UpdateRequestTypeInput = z.output<typeof updateRequestTypeBody>;

/** An edit that creates or replaces: whether the row was new (201) and the row as stored. */
export interface Upserted<T> {
  readonly created: boolean;
  readonly item: T;
}

type Read<T, P> = P & { caller: Caller; replyTo: Reply<T> };
type Edit<T, P> = P & { caller: Caller; replyTo: Reply<T> };

export type ReferenceMessage =
  | { type: 'notification-types'; replyTo: Reply<NotificationType[]> }
  | ({ type: 'agencies' } & Read<Agency[], { all: boolean }>)
  | ({ type: 'tariff-thresholds' } & Read<TariffThreshold[], { tariff?: string | undefined }>)
  | ({ type: 'request-types' } & Read<RequestType[], { all: boolean }>)
  | ({ type: 'create-agency' } & Edit<Agency, { input: CreateAgencyInput }>)
  | ({ type: 'update-agency' } & Edit<Agency, { code: string; input: UpdateAgencyInput }>)
  | ({ type: 'delete-agency' } & Edit<void, { code: string }>)
  | ({ type: 'put-tariff-threshold' } & Edit<Upserted<TariffThreshold>, { tariff: string; band: number; input: PutTariffThresholdInput }>)
  | ({ type: 'delete-tariff-threshold' } & Edit<void, { tariff: string; band: number }>)
  | ({ type: 'put-notification-type' } & Edit<Upserted<NotificationTypeEdit>, { code: string; input: PutNotificationTypeInput }>)
  | ({ type: 'create-request-type' } & Edit<RequestType, { input: CreateRequestTypeInput }>)
  | ({ type: 'update-request-type' } & Edit<RequestType, { code: string; input: UpdateRequestTypeInput }>)
  | ({ type: 'delete-request-type' } & Edit<void, { code: string }>);
