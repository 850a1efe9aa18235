// The one door from the HTTP layer into the actor system: a typed query with a deadline.
import type { AccountsMessage } from './accounts-messages.js';
import type { ControlMessage } from './control-messages.js';
import type { ControlPlaneMessage } from './control-plane-messages.js';
import type { CustomerDataMessage } from './customer-data-messages.js';
import type { DashboardMessage } from './dashboard-messages.js';
import type { InboxMessage } from './inbox-messages.js';
import type { LiveHubMessage } from './live-messages.js';
import type { MetersMessage } from './meters-messages.js';
import type { MeterDataMessage } from './meter-data-messages.js';
import type { BrokerAdminMessage } from './operations-messages.js';
import type { NotificationJobsMessage, OutboxRelayMessage } from './notifications-messages.js';
import type { OnCallMessage } from './on-call-messages.js';
import type { QueuePausesMessage } from './queue-pauses-messages.js';
import type { ReferenceMessage } from './reference-messages.js';
import type { RequestsMessage } from './requests-messages.js';
import type { PayloadOf, ReplyOf } from './reply.js';

/** Actor name → the message union it accepts. Later issues add their services here. */
export interface ActorContracts {
  accounts: AccountsMessage;
  'broker-admin': BrokerAdminMessage;
  control: ControlMessage;
  'control-plane': ControlPlaneMessage;
  'customer-data': CustomerDataMessage;
  dashboard: DashboardMessage;
  inbox: InboxMessage;
  'live-hub': LiveHubMessage;
  meters: MetersMessage;
  'meter-data': MeterDataMessage;
  'notification-jobs': NotificationJobsMessage;
  'on-call': OnCallMessage;
  'outbox-relay': OutboxRelayMessage;
  'queue-pauses': QueuePausesMessage;
  reference: ReferenceMessage;
  requests: RequestsMessage;
}

export type ActorName = keyof ActorContracts;
export type MessageOf<A extends ActorName, T extends ActorContracts[A]['type']> = Extract<ActorContracts[A], { type: T }>;

export interface Gateway {
  /**
   * Sends one query to a named actor and resolves with its reply. Rejects with the callee's typed
   * error, `QueryTimeoutError` (code QUERY_TIMEOUT) at the deadline, `ActorRestartingError` when the
   * actor restarts while the query is pending, `ActorNotFoundError` when no such actor runs.
   */
  ask<A extends ActorName, T extends ActorContracts[A]['type']>(
    actor: A,
    type: T,
    payload: PayloadOf<MessageOf<A, T>>,
    options?: { deadlineMs?: number },
  ): Promise<ReplyOf<MessageOf<A, T>>>;
}
