// Customer requests with an attachment (issue 12): filing one as multipart/form-data (the file streamed to storage),
// the lists and details by role, the agency's changes, and a short-lived download link to the attachment.
import type { Gateway } from '../../src/contracts/gateway.js';
import {
  MULTIPART_FIELDS_ALLOWANCE_BYTES,
  MULTIPART_FIELD_MAX_BYTES,
  attachmentLinkSchema,
  fileRequestFields,
  fileRequestForm,
  requestDetailSchema,
  requestListQuery,
  requestPageSchema,
  requestParams,
  updateRequestBody,
} from '../../src/contracts/requests-messages.js';
import { uploadDeadlineMs } from '../deadlines.js';
import { PayloadTooLargeError, UploadStalledError } from '../http-errors.js';
import { dropBody, readMultipart, type MultipartLimits } from '../multipart.js';
import { idleWatched } from '../idle-watch.js';
import { defineRoute, type RouteDefinition } from '../route.js';
import { parseRouteInput } from '../route-input.js';

export interface RequestRoutesConfig {
  /** The largest attachment, in bytes (REQUEST_ATTACHMENT_MAX_BYTES). */
  readonly maxBytes: number;
  /** The default route deadline, which an upload's grows from. */
  readonly defaultDeadlineMs: number;
  /** An upload silent this long is abandoned (REQUEST_UPLOAD_IDLE_TIMEOUT_MS). */
  readonly idleTimeoutMs: number;
}

const READERS = ['customer', 'agent', 'admin'] as const;

export function requestRoutes(deps: { gateway: Gateway; requests?: RequestRoutesConfig }): RouteDefinition[] {
  const { gateway } = deps;
  const config = deps.requests ?? { maxBytes: 10 * 1024 * 1024, defaultDeadlineMs: 5_000, idleTimeoutMs: 30_000 };
  const maxBody = config.maxBytes + MULTIPART_FIELDS_ALLOWANCE_BYTES;
  const limits: MultipartLimits = {
    fileField: 'file',
    maxFields: 4,
    maxFieldBytes: MULTIPART_FIELD_MAX_BYTES,
    // One byte past the limit reaches the service, which refuses it (413) and stores nothing.
    maxFileBytes: config.maxBytes + 1,
    maxDiscardBytes: maxBody,
  };
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/requests',
      summary: 'File a request (a complaint, a meter problem, a new connection…), with an optional photo or PDF.',
      description:
        '`multipart/form-data`: the fields `type`, `comment` and one of `linkId` (one of your active meter links: its agency handles the request; ' +
        'required when the type is about a meter) and `agency` (an agency code), **then** at most one file part named `file` — every field must ' +
        'come before the file (400 `MULTIPART_INVALID` otherwise, as for a second file or an oversized field). The file is streamed to storage: ' +
        `JPEG, PNG, WebP, HEIC or PDF, told by its content, never its name or declared type (415 \`UNSUPPORTED_MEDIA_TYPE\`); at most ${config.maxBytes} bytes ` +
        '(413 `PAYLOAD_TOO_LARGE`, at once when Content-Length already says so). Nothing is stored unless the whole request is. ' +
        'A link that is not yours or not active is 404 `METER_LINK_NOT_FOUND`; an unknown or withdrawn type 400 `REQUEST_TYPE_UNKNOWN`, agency 400 ' +
        '`REQUEST_AGENCY_UNKNOWN`; storage down 503 `STORAGE_UNAVAILABLE` with Retry-After.',
      auth: ['customer'],
      multipart: fileRequestForm,
      responses: {
        201: requestDetailSchema,
        400: 'The fields are not valid (VALIDATION_FAILED, REQUEST_TYPE_UNKNOWN, REQUEST_AGENCY_UNKNOWN, REQUEST_NEEDS_METER) or the body is not a form we take (MULTIPART_INVALID).',
        408: 'Nothing of the file arrived for the idle timeout (REQUEST_TIMEOUT); nothing is stored.',
        413: 'The file is over the limit (PAYLOAD_TOO_LARGE); nothing is stored.',
        415: 'Not multipart/form-data, or the file is not a JPEG, PNG, WebP, HEIC or PDF by its content (UNSUPPORTED_MEDIA_TYPE).',
      },
      async handler(ctx, _input, caller) {
        const length = ctx.get('Content-Length');
        const declared = /^\d{1,15}$/.test(length) ? Number(length) : undefined;
        if (declared !== undefined && declared > maxBody) {
          // Refused before a byte is read; the body is dropped (bounded) so the client reads the answer.
          dropBody(ctx.req, maxBody);
          throw new PayloadTooLargeError(`${config.maxBytes} bytes of file`);
        }
        const form = await readMultipart(ctx.req, ctx.req.headers, limits);
        // A client that stalls mid-file would hold an open storage upload until the whole deadline (then a 504): a
        // silence of idleTimeoutMs fails the file's stream instead, which aborts the storage upload.
        const watched = form.file ? idleWatched(form.file.stream, config.idleTimeoutMs) : undefined;
        try {
          // Empty fields are left out, as a browser sends them for inputs left blank.
          const raw = Object.fromEntries(Object.entries(form.fields).filter(([, v]) => v !== ''));
          // Checked before a byte of the file goes anywhere.
          const { body: fields } = parseRouteInput({ body: fileRequestFields }, { params: {}, query: {}, body: raw });
          const attachment = form.file && watched ? { stream: watched.stream, filename: form.file.filename } : undefined;
          ctx.body = await gateway.ask('requests', 'file', { caller, fields, attachment }, { deadlineMs: uploadDeadlineMs(declared, maxBody, config.defaultDeadlineMs) });
          ctx.status = 201;
        } catch (e) {
          form.discard();
          // Whatever the storage upload failed with, the cause was the client's silence.
          throw watched?.stalled() ? new UploadStalledError(config.idleTimeoutMs) : e;
        } finally {
          watched?.stop();
        }
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/requests',
      summary: 'Requests, newest first: a customer their own, an agent their agency\'s, an admin all.',
      description: 'Filter by `status`; pages of `limit` (20, at most 100), the next one with `cursor` (the previous page\'s `nextCursor`).',
      auth: READERS,
      request: { query: requestListQuery },
      responses: { 200: requestPageSchema },
      async handler(ctx, { query }, caller) {
        ctx.body = await gateway.ask('requests', 'list', { caller, query });
        ctx.set('Cache-Control', 'private, no-cache');
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/requests/:id',
      summary: 'One request with its history.',
      description: 'For its author, the agents of its agency and admins; anyone else, and an unknown id, gets 404 `REQUEST_NOT_FOUND`.',
      auth: READERS,
      request: { params: requestParams },
      responses: { 200: requestDetailSchema },
      async handler(ctx, { params }, caller) {
        ctx.body = await gateway.ask('requests', 'get', { caller, id: params.id });
        ctx.set('Cache-Control', 'private, no-cache');
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/v1/requests/:id',
      summary: 'Change a request\'s status, reply to it, or both: its author is notified (`request_status`).',
      description:
        'For the agents of the request\'s agency and admins; an agent of another agency, and an unknown id, gets 404 `REQUEST_NOT_FOUND`; ' +
        'a customer 403 `FORBIDDEN` (customers read requests, never change them). Each change is kept in the history with who and when.',
      auth: ['agent', 'admin'],
      request: { params: requestParams, body: updateRequestBody },
      responses: { 200: requestDetailSchema },
      async handler(ctx, { params, body }, caller) {
        ctx.body = await gateway.ask('requests', 'update', { caller, id: params.id, input: body });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/requests/:id/attachment',
      summary: 'A short-lived download link to the request\'s attachment.',
      description:
        'For whoever may read the request (else 404 `REQUEST_NOT_FOUND`); no attachment, or deleted: 404 `REQUEST_ATTACHMENT_NOT_FOUND`. ' +
        'The URL is on the storage\'s public address, valid until `expiresAt`, and its answer is a download (Content-Disposition: attachment).',
      auth: READERS,
      request: { params: requestParams },
      responses: { 200: attachmentLinkSchema },
      async handler(ctx, { params }, caller) {
        ctx.body = await gateway.ask('requests', 'attachment', { caller, id: params.id });
        ctx.set('Cache-Control', 'private, no-store');
      },
    }),
  ];
}
