// The admins' edits of reference data (customers and agents: 403 FORBIDDEN); each is audited with its change.
import type { Gateway } from '../../src/contracts/gateway.js';
import {
  agencyParams,
  agencySchema,
  createAgencyBody,
  createRequestTypeBody,
  notificationTypeEditSchema,
  notificationTypeParams,
  putNotificationTypeBody,
  putTariffThresholdBody,
  requestTypeParams,
  requestTypeSchema,
  tariffBandParams,
  tariffThresholdSchema,
  updateAgencyBody,
  updateRequestTypeBody,
} from '../../src/contracts/reference-messages.js';
import { defineRoute, type RouteDefinition } from '../route.js';

const ADMIN = ['admin'] as const;
const AUDITED = 'Admins only (customers and agents: 403 `FORBIDDEN`); the change and its audit row are written in one transaction.';

export function referenceEditRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  const { gateway } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/agencies',
      summary: 'Add an agency (active).',
      description: `${AUDITED} An existing code is 409 \`AGENCY_EXISTS\`.`,
      auth: ADMIN,
      request: { body: createAgencyBody },
      responses: { 201: agencySchema },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('reference', 'create-agency', { caller, input: body });
        ctx.status = 201;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/agencies/:code',
      summary: 'Rename an agency, withdraw it (`active: false`) or restore it.',
      description: `${AUDITED} Unknown code: 404 \`AGENCY_NOT_FOUND\`.`,
      auth: ADMIN,
      request: { params: agencyParams, body: updateAgencyBody },
      responses: { 200: agencySchema },
      async handler(ctx, { params, body }, caller) {
        ctx.body = await gateway.ask('reference', 'update-agency', { caller, code: params.code, input: body });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/agencies/:code',
      summary: 'Delete an agency nothing names.',
      description: `${AUDITED} While users, meter links, requests or notification jobs name it: 409 \`AGENCY_IN_USE\` (withdraw it instead).`,
      auth: ADMIN,
      request: { params: agencyParams },
      responses: { 204: 'Deleted.' },
      async handler(ctx, { params }, caller) {
        await gateway.ask('reference', 'delete-agency', { caller, code: params.code });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/tariff-thresholds/:tariff/:band',
      summary: "Create (201) or replace (200) one band of a tariff.",
      description:
        `${AUDITED} A tariff's bands stay contiguous and non-overlapping: band 1 starts at 0 kWh, each band where the one below ends, ` +
        'only the top band is open (`kwhMax: null`); an edit breaking that is 409 `TARIFF_BANDS_CONFLICT` naming the fields. ' +
        'To move a boundary, delete the bands above it (top first) and put them again.',
      auth: ADMIN,
      request: { params: tariffBandParams, body: putTariffThresholdBody },
      responses: { 200: tariffThresholdSchema, 201: tariffThresholdSchema },
      async handler(ctx, { params, body }, caller) {
        const { created, item } = await gateway.ask('reference', 'put-tariff-threshold', { caller, tariff: params.tariff, band: params.band, input: body });
        ctx.body = item;
        ctx.status = created ? 201 : 200;
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/tariff-thresholds/:tariff/:band',
      summary: "Delete a tariff's top band.",
      description: `${AUDITED} Another band would leave a gap: 409 \`TARIFF_BANDS_CONFLICT\`; no such band: 404 \`TARIFF_BAND_NOT_FOUND\`.`,
      auth: ADMIN,
      request: { params: tariffBandParams },
      responses: { 204: 'Deleted.' },
      async handler(ctx, { params }, caller) {
        await gateway.ask('reference', 'delete-tariff-threshold', { caller, tariff: params.tariff, band: params.band });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/notification-types/:code',
      summary: 'Create (201) or replace (200) a notification type: label, queue, TTL, collapse key.',
      description:
        `${AUDITED} Jobs keep the queue they were accepted with: a new queue applies to new jobs only, and when jobs of the type ` +
        'are in flight the reply carries a `JOBS_IN_FLIGHT_KEEP_QUEUE` warning with their number and the queue they keep. ' +
        'Workers keep the TTL and collapse key they first read for a job, so changing either while jobs are in flight adds a ' +
        '`JOBS_IN_FLIGHT_MAY_KEEP_SETTINGS` warning: their remaining batches may still go out with the previous values.',
      auth: ADMIN,
      request: { params: notificationTypeParams, body: putNotificationTypeBody },
      responses: { 200: notificationTypeEditSchema, 201: notificationTypeEditSchema },
      async handler(ctx, { params, body }, caller) {
        const { created, item } = await gateway.ask('reference', 'put-notification-type', { caller, code: params.code, input: body });
        ctx.body = item;
        ctx.status = created ? 201 : 200;
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/request-types',
      summary: 'Add a request type (active).',
      description: `${AUDITED} An existing code is 409 \`REQUEST_TYPE_EXISTS\`.`,
      auth: ADMIN,
      request: { body: createRequestTypeBody },
      responses: { 201: requestTypeSchema },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('reference', 'create-request-type', { caller, input: body });
        ctx.status = 201;
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/v1/request-types/:code',
      summary: 'Change a request type: label, whether it needs a meter, withdraw (`active: false`) or restore it.',
      description: `${AUDITED} Unknown code: 404 \`REQUEST_TYPE_NOT_FOUND\`.`,
      auth: ADMIN,
      request: { params: requestTypeParams, body: updateRequestTypeBody },
      responses: { 200: requestTypeSchema },
      async handler(ctx, { params, body }, caller) {
        ctx.body = await gateway.ask('reference', 'update-request-type', { caller, code: params.code, input: body });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/request-types/:code',
      summary: 'Delete a request type no request uses.',
      description: `${AUDITED} While requests use it: 409 \`REQUEST_TYPE_IN_USE\` (withdraw it instead).`,
      auth: ADMIN,
      request: { params: requestTypeParams },
      responses: { 204: 'Deleted.' },
      async handler(ctx, { params }, caller) {
        await gateway.ask('reference', 'delete-request-type', { caller, code: params.code });
        ctx.status = 204;
      },
    }),
  ];
}
