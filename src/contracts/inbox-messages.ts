// Messages of the inbox actor, and the shapes the HTTP layer validates with (GET/POST/DELETE /v1/me/notifications).
import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor } from '../domain/inbox-cursor.js';
import type { Caller } from './caller.js';
import type { Reply } from './reply.js';

/** Query strings carry text: 'true'/'1' and 'false'/'0'. */
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const inboxListQuery = z.object({
  cursor: z
    .string()
    .refine((v) => decodeCursor(v) !== undefined, 'not a cursor this API issued')
    .optional()
    .meta({ description: "The previous page's nextCursor (opaque)." }),
  unread: flag.optional().meta({ description: 'Only notifications not read yet.' }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).meta({ description: `Page size, 1 to ${MAX_PAGE_SIZE}.` }),
});

export const inboxItemParams = z.object({ id: z.string().meta({ description: 'The inbox item id (from the list)' }) });

export const inboxItemSchema = z.object({
  id: z.string(),
  jobId: z.uuid(),
  type: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.string()),
  createdAt: z.string(),
  read: z.boolean(),
});

export const inboxPageSchema = z.object({
  items: z.array(inboxItemSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' }),
});

export const markAllReadSchema = z.object({ marked: z.number().int().meta({ description: 'How many notifications became read.' }) });

export interface InboxListOptions {
  /** An opaque cursor from a previous page's nextCursor. */
  readonly cursor?: string | undefined;
  /** Only items not read yet. */
  readonly unread?: boolean | undefined;
  /** @defaultValue 20 (at most 100) */
  readonly limit?: number | undefined;
}

export interface InboxItem {
  /** The inbox item id (decimal string): what read and delete take. */
  readonly id: string;
  readonly jobId: string;
  readonly type: string;
  readonly title: string;
  readonly body: string;
  readonly data: Record<string, string>;
  readonly createdAt: string;
  readonly read: boolean;
}

export interface InboxPage {
  readonly items: readonly InboxItem[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

export type InboxMessage =
  | { type: 'list'; caller: Caller; options: InboxListOptions; replyTo: Reply<InboxPage> }
  | { type: 'mark-read'; caller: Caller; id: string; replyTo: Reply<void> }
  | { type: 'mark-all-read'; caller: Caller; replyTo: Reply<{ marked: number }> }
  | { type: 'delete'; caller: Caller; id: string; replyTo: Reply<void> };
