// What every part of the product's tree is built from: the config and what src/node.ts makes once per process.
import type { PinHasher } from '../../src/accounts/pin-hasher.js';
import type { AuthWatch } from '../../src/accounts/auth-watch.js';
import type { SessionRevocations } from '../../src/accounts/session-revocations.js';
import type { TokenKeys } from '../../src/accounts/token-keys.js';
import type { Asker } from '../../src/actor-behaviour.js';
import type { LiveBus } from '../../src/adapters/live-bus/live-bus.js';
import type { CircuitState } from '../../src/adapters/mssql/source-circuit.js';
import type { Clock } from '../../src/clock.js';
import type { NodeIdentity } from '../../src/cluster/node-registry.js';
import type { Config } from '../../src/config.js';
import type { CommandResult } from '../../src/contracts/control-plane-messages.js';
import type { PushObserver } from '../../src/dispatch/push-pipeline.js';
import type { SupervisionRegistry } from '../../src/contracts/supervision.js';
import type { Logger } from '../../src/logger.js';
import type { LinkCache } from '../../src/meters/index.js';
import type { OnOperation } from '../../src/dispatch/queue-pause-service.js';

export interface TreeContext {
  readonly config: Config;
  readonly asker: Asker;
  /** The runtime itself, given late because it is built first. */
  readonly registry: () => SupervisionRegistry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly keys: TokenKeys;
  readonly liveBus: LiveBus;
  /** Ended sessions of this API instance (undefined on a worker, which serves no tokens). */
  readonly revocations: SessionRevocations | undefined;
  /** Active meter links remembered for rule 5's check, shared by the services that read and end links (not on a worker). */
  readonly links?: LinkCache;
  /** This process in the node registry (one per process: a restart of a subtree keeps it). */
  readonly identity: NodeIdentity;
  readonly hasher?: PinHasher;
  readonly authWatch?: AuthWatch;
  /** Makes the running consumers follow queue_pauses after an admin paused or resumed a queue (src/node.ts decides where). */
  readonly applyQueuePauses?: () => Promise<readonly CommandResult[]>;
  /** Records an admin operation (the operations audit); does nothing when absent. */
  readonly onOperation?: OnOperation;
  /** Hears each SQL source's circuit state as it changes (samaconso_source_circuit_state). */
  readonly onSourceCircuit?: (source: string, state: CircuitState) => void;
  /** Hears the worker's FCM sends and scheduler waits (samaconso_fcm_sends_total, samaconso_scheduler_wait_seconds). */
  readonly pushObserver?: PushObserver;
}
