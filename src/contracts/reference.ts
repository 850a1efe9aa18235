// Messages of the reference-data service (notification types today; agencies and tariffs join later).
import { z } from 'zod';
import { PRIORITY_QUEUES } from '../domain/priority.js';
import type { Reply } from './reply.js';

export const notificationTypeSchema = z.object({
  code: z.string(),
  queue: z.enum(PRIORITY_QUEUES),
  label: z.string(),
  ttlSeconds: z.number().int().positive(),
  collapseKey: z.string().nullable(),
});
export type NotificationType = z.infer<typeof notificationTypeSchema>;

export type ReferenceMessage = { type: 'notification-types'; replyTo: Reply<NotificationType[]> };
