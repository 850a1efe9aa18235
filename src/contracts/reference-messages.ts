// Messages of the reference-data service (notification types today; agencies and tariffs join later).
import type { NotificationType } from '../domain/notification-type.js';
import type { Reply } from './reply.js';

export type ReferenceMessage = { type: 'notification-types'; replyTo: Reply<NotificationType[]> };
