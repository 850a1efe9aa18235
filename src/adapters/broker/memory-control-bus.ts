// The control bus in process: every MemoryControlBus of one hub sees the others' messages, as the nodes of one
// RabbitMQ would. Embedded mode (`npm start`, role all, in-process broker) has one node on the process-wide hub.
import { BrokerUnavailableError } from './broker.js';
import { EVERY_NODE, type ControlBus, type ControlListen } from './control-bus.js';

interface Listener {
  readonly options: ControlListen;
  readonly handler: (message: unknown) => void;
}

/** The buses that reach each other. */
export class ControlHub {
  readonly listeners = new Set<Listener>();
}

const PROCESS_HUB = new ControlHub();

/** A message crosses as JSON, as on the wire: nobody shares objects with the sender. */
const copy = (message: unknown): unknown => JSON.parse(JSON.stringify(message)) as unknown;

export class MemoryControlBus implements ControlBus {
  readonly kind = 'memory' as const;
  private listener: Listener | undefined;
  private closed = false;

  constructor(private readonly hub: ControlHub = PROCESS_HUB) {}

  get isUp(): boolean {
    return !this.closed;
  }

  listen(options: ControlListen, handler: (message: unknown) => void): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the control bus is closed'));
    if (this.listener) return Promise.reject(new Error('this control bus listens already'));
    this.listener = { options, handler };
    this.hub.listeners.add(this.listener);
    return Promise.resolve();
  }

  send(to: string, message: unknown): Promise<void> {
    return this.deliver((l) => to === EVERY_NODE || l.options.nodeId === to, message);
  }

  publishSnapshot(_nodeId: string, message: unknown): Promise<void> {
    return this.deliver((l) => l.options.snapshots, message);
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.listener) this.hub.listeners.delete(this.listener);
    this.listener = undefined;
    return Promise.resolve();
  }

  private deliver(to: (l: Listener) => boolean, message: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the control bus is closed'));
    const body = JSON.stringify(message);
    // Asynchronously, as a network would: a handler never runs inside the sender's call.
    for (const l of [...this.hub.listeners].filter(to)) queueMicrotask(() => l.handler(copy(JSON.parse(body))));
    return Promise.resolve();
  }
}
