// A memory broker whose connection state the test drives, as RabbitMQ going away and coming back.
import type { BrokerEvent } from '../../src/adapters/broker/broker.js';
import { MemoryBroker } from '../../src/adapters/broker/memory-broker.js';

export class SwitchableBroker extends MemoryBroker {
  private upNow: boolean;
  private readonly subs = new Set<(e: BrokerEvent) => void>();

  constructor(options: ConstructorParameters<typeof MemoryBroker>[0], startUp: boolean) {
    super(options);
    this.upNow = startUp;
  }

  override get isUp() {
    return this.upNow;
  }

  override on(listener: (e: BrokerEvent) => void) {
    this.subs.add(listener);
    return () => this.subs.delete(listener);
  }

  set(event: BrokerEvent) {
    this.upNow = event.type === 'up';
    for (const s of this.subs) s(event);
  }
}
