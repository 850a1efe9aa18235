// Which control bus a node uses: RabbitMQ's control exchange when it has RabbitMQ, the process-wide hub otherwise
// (embedded mode): the same interface either way.
import type { Logger } from '../../logger.js';
import { AmqpControlBus } from './amqp-control-bus.js';
import type { ControlBus } from './control-bus.js';
import { MemoryControlBus } from './memory-control-bus.js';

export function createControlBus(options: { urls: readonly string[]; firstNode?: number | undefined; connectionName: string; log: Logger }): ControlBus {
  return options.urls.length > 0
    ? new AmqpControlBus({ urls: options.urls, firstNode: options.firstNode, connectionName: options.connectionName, log: options.log })
    : new MemoryControlBus();
}
