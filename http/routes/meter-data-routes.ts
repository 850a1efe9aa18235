// A linked meter's data: purchases, bills, their monthly totals and the contract, each read on the link's rule 5.
import type { Gateway } from '../../src/contracts/gateway.js';
import {
  billsQuery,
  billsSchema,
  contractSchema,
  monthlyBillsSchema,
  monthlyPurchasesSchema,
  monthlyQuery,
  purchasesQuery,
  purchasesSchema,
} from '../../src/contracts/meter-data-messages.js';
import { meterLinkParams } from '../../src/contracts/meters-messages.js';
import type { HttpContext } from '../http-state.js';
import { defineRoute, type RouteDefinition } from '../route.js';

const READERS = ['customer', 'agent', 'admin'] as const;

const WHO =
  "A customer reads their own active links, an agent the links of their agency's meters, an admin any link; any other id — unknown, another customer's, another agency's, pending or ended — is the same 404 `METER_LINK_NOT_FOUND`.";
const OUTAGE =
  'While the source is unreachable an older answer may be served, marked `stale` with its `ageMs`; with none, 503 `SOURCE_UNAVAILABLE` with Retry-After (504 `SOURCE_TIMEOUT` when it does not answer in time). Carries an ETag: a matching If-None-Match answers 304.';

function describe(what: string, kind: 'prepaid' | 'postpaid' | undefined): string {
  const mismatch = kind ? ` The link must be ${kind} (else 404 \`METER_KIND_MISMATCH\`).` : '';
  return `${what}${mismatch} ${WHO} ${OUTAGE}`;
}

/** Each answer belongs to one caller and moves with the source: the client keeps it only to revalidate. */
function answer(ctx: HttpContext, body: unknown): void {
  ctx.set('Cache-Control', 'private, no-cache');
  ctx.body = body;
}

export function meterDataRoutes(deps: { gateway: Gateway; sourceReadDeadlineMs?: number }): RouteDefinition[] {
  const { gateway } = deps;
  // The reads wait on a source (derived in http/deadlines.ts); an undefined deadline is the gateway's default.
  const options = { deadlineMs: deps.sourceReadDeadlineMs };
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/meters/:linkId/purchases',
      summary: "A prepaid meter's Woyofal purchases, newest first: the latest (10 by default) or those of a period.",
      description: describe('`from` and `to` (both or neither; `to` exclusive) choose a period; `limit` caps the rows.', 'prepaid'),
      auth: READERS,
      request: { params: meterLinkParams, query: purchasesQuery },
      responses: { 200: purchasesSchema },
      async handler(ctx, { params, query }, caller) {
        answer(ctx, await gateway.ask('meter-data', 'purchases', { caller, linkId: params.linkId, query }, options));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/meters/:linkId/purchases/monthly',
      summary: "A prepaid meter's purchases per month of a year: count, FCFA paid and kWh bought, with the year's totals.",
      description: describe('`year` defaults to the current one.', 'prepaid'),
      auth: READERS,
      request: { params: meterLinkParams, query: monthlyQuery },
      responses: { 200: monthlyPurchasesSchema },
      async handler(ctx, { params, query }, caller) {
        answer(ctx, await gateway.ask('meter-data', 'monthly-purchases', { caller, linkId: params.linkId, query }, options));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/meters/:linkId/bills',
      summary: "A postpaid contract's bills, newest first: the latest (6 by default) or those issued in a period.",
      description: describe('`from` and `to` (both or neither; `to` exclusive) choose a period of issue dates; `limit` caps the rows.', 'postpaid'),
      auth: READERS,
      request: { params: meterLinkParams, query: billsQuery },
      responses: { 200: billsSchema },
      async handler(ctx, { params, query }, caller) {
        answer(ctx, await gateway.ask('meter-data', 'bills', { caller, linkId: params.linkId, query }, options));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/meters/:linkId/bills/monthly',
      summary: "A postpaid contract's bills per month billed of a year: count, FCFA billed and kWh, with the year's totals.",
      description: describe('`year` defaults to the current one.', 'postpaid'),
      auth: READERS,
      request: { params: meterLinkParams, query: monthlyQuery },
      responses: { 200: monthlyBillsSchema },
      async handler(ctx, { params, query }, caller) {
        answer(ctx, await gateway.ask('meter-data', 'monthly-bills', { caller, linkId: params.linkId, query }, options));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/meters/:linkId/contract',
      summary: "The meter's contract: the SIC customer of a prepaid meter, or a postpaid contract account and its holder.",
      description: describe('`kind` says which shape the answer has.', undefined),
      auth: READERS,
      request: { params: meterLinkParams },
      responses: { 200: contractSchema },
      async handler(ctx, { params }, caller) {
        answer(ctx, await gateway.ask('meter-data', 'contract', { caller, linkId: params.linkId }, options));
      },
    }),
  ];
}
