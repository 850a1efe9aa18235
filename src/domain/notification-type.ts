// A notification type (a row of notification_types): its code names it, its queue decides the push's priority.
import { z } from 'zod';
import { PRIORITY_QUEUES } from './priority.js';

export const notificationTypeSchema = z.object({
  code: z.string(),
  queue: z.enum(PRIORITY_QUEUES),
  label: z.string(),
  ttlSeconds: z.number().int().positive(),
  collapseKey: z.string().nullable(),
});
export type NotificationType = z.infer<typeof notificationTypeSchema>;
