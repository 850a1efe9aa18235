// One RabbitMQ connection and its channels (a "link", a new one per reconnect), with the publishes that await
// their confirm on it.
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { TimerHandle } from '../../clock.js';

export interface PendingPublish {
  readonly reject: (e: Error) => void;
  readonly timer: TimerHandle;
}

/** One connection and its channels; a new one per reconnect. */
export interface Link {
  readonly gen: number;
  /** host:port of the node it is connected to. */
  readonly node: string;
  readonly conn: ChannelModel;
  ctl: Channel | undefined;
  pub: ConfirmChannel | undefined;
  /** Declared and publishing: consumers may subscribe, publishes are sent. */
  ready: boolean;
  lost: boolean;
  readonly pending: Map<number, PendingPublish>;
  /** Mandatory publishes the broker returned (no route), by returnKey, until their confirm. */
  readonly returned: Map<string, number>;
  /** The last channel error, to name the reason when the connection goes. */
  lastError: string | undefined;
}

/** How a returned message is matched with its publish: routing key and message id. */
export function returnKey(routingKey: string, messageId: string | undefined): string {
  return `${routingKey}\u0000${messageId ?? ''}`;
}

/** What the publisher and the consumers need of the broker that keeps the links. */
export interface LinkKeeper {
  /** The broker was closed: nothing is sent, subscribed or reconnected any more. */
  isClosed(): boolean;
  /** The link of the connection in place (maybe not ready yet, maybe lost), or none between attempts. */
  current(): Link | undefined;
  /** Gives up on this link: closes its connection, which leads to a reconnect. */
  failLink(link: Link | undefined, reason: string): void;
  /** Watches a publish or consumer channel: its unexpected close fails the whole link. */
  watchChannel(link: Link, ch: Channel, what: string, current: () => boolean): void;
}
