// The control bus: the broker adapter's side channel for the control plane. Messages (JSON) are addressed to one
// node id or to every node, and each node's snapshots go to whoever keeps them (API nodes). Two implementations,
// one interface: AmqpControlBus (a RabbitMQ topic exchange; each node listens on an exclusive queue of its own)
// and MemoryControlBus (in process: embedded mode, the in-process broker, unit tests).

/** Every node: a message sent to it reaches each listening node, the sender included. */
export const EVERY_NODE = '*';

export interface ControlListen {
  /** This node's id: messages addressed to it (and to EVERY_NODE) are delivered to the handler. */
  readonly nodeId: string;
  /** Also deliver every node's snapshots (API nodes keep them for GET /admin/supervisors). */
  readonly snapshots: boolean;
}

export interface ControlBus {
  readonly kind: 'memory' | 'amqp';
  /** True while messages can be sent (always for the memory bus until closed). */
  readonly isUp: boolean;
  /**
   * Starts listening: `handler` gets each message (parsed JSON, unchecked: check it) addressed to this node or to
   * every node, and the snapshots when asked. Once per bus. Resolves once the subscription is made, or at once
   * while RabbitMQ is down (the subscription is made when it is back).
   */
  listen(options: ControlListen, handler: (message: unknown) => void): Promise<void>;
  /** Sends to one node id or EVERY_NODE; rejects BROKER_UNAVAILABLE while not connected. Fire and forget otherwise. */
  send(to: string, message: unknown): Promise<void>;
  /** Publishes this node's snapshot to the nodes keeping them. */
  publishSnapshot(nodeId: string, message: unknown): Promise<void>;
  /** Stops listening and closes; safe to call twice. */
  close(): Promise<void>;
}
