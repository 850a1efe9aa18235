// Messages of the requests actor (customer requests with an attachment, DOMAIN.md rule 6) and the shapes HTTP
// validates with: the multipart fields of POST /v1/requests, the list's query, the agency's PATCH.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { REQUESTS_DEFAULT_PAGE_SIZE, REQUESTS_MAX_PAGE_SIZE, decodeRequestCursor } from '../domain/request-cursor.js';
import { storedText } from '../domain/stored-text.js';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

export const REQUEST_STATUSES = ['open', 'in_progress', 'resolved', 'rejected'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** The longest comment a customer writes, and the longest reply of an agency. */
export const REQUEST_COMMENT_MAX = 2_000;
export const REQUEST_REPLY_MAX = 2_000;

/** What a multipart body may carry beyond the file: the text fields, part headers and boundaries. */
export const MULTIPART_FIELDS_ALLOWANCE_BYTES = 64 * 1024;

/** The longest text field of the multipart body, in bytes (the comment, 4 bytes a character at most, and margin). */
export const MULTIPART_FIELD_MAX_BYTES = 4 * REQUEST_COMMENT_MAX + 1_024;

const uuidText = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a uuid');

/**
 * The text fields of POST /v1/requests (multipart/form-data, before the file part). Exactly one of `linkId` and
 * `agency`: a request about a meter names one of the caller's active links (its agency handles it), any other names
 * an agency from the agencies list.
 */
export const fileRequestFields = z
  .object({
    type: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, 'must be a request type code').meta({ example: 'meter_problem', description: 'A code of the request types list (GET /v1/reference/request-types).' }),
    comment: storedText(REQUEST_COMMENT_MAX).meta({ description: `What the customer asks, 1 to ${REQUEST_COMMENT_MAX} characters.` }),
    linkId: uuidText.optional().meta({ description: 'One of your active meter links (GET /v1/me/meters): the request is about that meter.' }),
    agency: z.string().trim().min(1).max(32).regex(/^[A-Za-z0-9_-]+$/, 'must be an agency code').optional().meta({ description: 'An agency code, for a request without a meter.' }),
  })
  .strict()
  .refine((f) => (f.linkId === undefined) !== (f.agency === undefined), { message: 'give exactly one of linkId and agency', path: ['linkId'] });
export type FileRequestFields = z.output<typeof fileRequestFields>;

/** The multipart form as OpenAPI describes it: the fields above, then the file. */
export const fileRequestForm = z.object({
  ...fileRequestFields.shape,
  file: z.string().optional().meta({
    format: 'binary',
    description: 'Optional, last part: a JPEG, PNG, WebP or HEIC image or a PDF (the type is read from the content), at most the configured size (10 MB).',
  }),
});

/** The file part as the requests actor takes it: a stream read once; nothing of the client's naming is trusted. */
export interface RequestAttachmentUpload {
  readonly stream: Readable;
  /** The name the client gave, kept only to name the download; sanitised by the service. */
  readonly filename: string | undefined;
}

export const requestParams = z.object({
  id: z.string().min(1).max(64).meta({ example: '6f7c1f7e-2a51-4b59-9e57-3f6b2ad0c1e4', description: 'The request id.' }),
});

export const requestListQuery = z.object({
  status: z.enum(REQUEST_STATUSES).optional().meta({ description: 'Only the requests in this status.' }),
  cursor: z
    .string()
    .refine((v) => decodeRequestCursor(v) !== undefined, 'not a cursor this API issued')
    .optional()
    .meta({ description: "The previous page's nextCursor (opaque)." }),
  limit: z.coerce.number().int().min(1).max(REQUESTS_MAX_PAGE_SIZE).default(REQUESTS_DEFAULT_PAGE_SIZE).meta({ description: `Page size, 1 to ${REQUESTS_MAX_PAGE_SIZE}.` }),
});
export type RequestListQuery = z.output<typeof requestListQuery>;

/** PATCH /v1/requests/{id}: a new status, a reply, or both. */
export const updateRequestBody = z
  .object({
    status: z.enum(REQUEST_STATUSES).optional(),
    reply: storedText(REQUEST_REPLY_MAX).optional().meta({ description: `The agency's answer to the customer, 1 to ${REQUEST_REPLY_MAX} characters.` }),
  })
  .strict()
  .refine((b) => b.status !== undefined || b.reply !== undefined, { message: 'give a status, a reply or both', path: ['status'] });
export type UpdateRequestInput = z.output<typeof updateRequestBody>;

export const requestAttachmentSchema = z.object({
  contentType: z.string().meta({ description: 'The type found by reading the file (never the name or the declared type).' }),
  bytes: z.number().int(),
  sha256: z.string().meta({ description: 'SHA-256 of the bytes stored, hex.' }),
});

export const requestSchema = z.object({
  id: z.string(),
  type: z.string(),
  status: z.enum(REQUEST_STATUSES),
  agency: z.string(),
  linkId: z.string().nullable(),
  meter: z.string().nullable(),
  meterKind: z.enum(['prepaid', 'postpaid']).nullable(),
  comment: z.string().meta({ description: "The customer's text; empty once their account was deleted." }),
  reply: z.string().nullable().meta({ description: "The agency's latest reply." }),
  attachment: requestAttachmentSchema.nullable().meta({ description: 'Null without a file, or once it was deleted.' }),
  anonymised: z.boolean().meta({ description: "True once the author's account was deleted." }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RequestView = z.output<typeof requestSchema>;

export const requestHistoryEntrySchema = z.object({
  at: z.string(),
  byRole: z.enum(['customer', 'agent', 'admin']),
  byUser: z.string().nullable().meta({ description: 'Who made the change (null for the author: their own id is not shown back).' }),
  fromStatus: z.enum(REQUEST_STATUSES).nullable(),
  toStatus: z.enum(REQUEST_STATUSES),
  reply: z.string().nullable(),
});

export const requestDetailSchema = requestSchema.extend({ history: z.array(requestHistoryEntrySchema) });
export type RequestDetail = z.output<typeof requestDetailSchema>;

export const requestPageSchema = z.object({
  items: z.array(requestSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' }),
});
export type RequestPage = z.output<typeof requestPageSchema>;

export const attachmentLinkSchema = z.object({
  url: z.string().meta({ description: "A GET URL on the storage's public address; the answer is a download (Content-Disposition: attachment)." }),
  expiresAt: z.string().meta({ description: 'ISO 8601: the URL stops working then.' }),
});
export type AttachmentLink = z.output<typeof attachmentLinkSchema>;

export type RequestsMessage =
  | { type: 'file'; caller: Caller; fields: FileRequestFields; attachment: RequestAttachmentUpload | undefined; replyTo: Reply<RequestDetail> }
  | { type: 'list'; caller: Caller; query: RequestListQuery; replyTo: Reply<RequestPage> }
  | { type: 'get'; caller: Caller; id: string; replyTo: Reply<RequestDetail> }
  | { type: 'update'; caller: Caller; id: string; input: UpdateRequestInput; replyTo: Reply<RequestDetail> }
  | { type: 'attachment'; caller: Caller; id: string; replyTo: Reply<AttachmentLink> };
