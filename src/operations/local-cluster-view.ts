// The cluster view of a process without a control plane to ask: this process alone, its tree read now.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { NodeIdentity } from '../cluster/index.js';
import type { ControlMessage } from '../contracts/control-messages.js';
import type { ClusterView } from '../contracts/on-call-messages.js';

export function localClusterView(asker: Asker, identity: NodeIdentity, clock: Clock, deadlineMs: number): () => Promise<ClusterView> {
  return async () => {
    const tree = await asker.ask(asker.ref<ControlMessage>('control'), 'tree', {}, deadlineMs);
    const at = new Date(clock.now()).toISOString();
    const { nodeId: node, role, host, pid, incarnation } = identity;
    return {
      nodes: [{ node, role, host, pid, incarnation, startedAt: identity.startedAt.toISOString(), heartbeatAt: at, snapshotAgeMs: 0 }],
      trees: [{ node, role, at, ageMs: 0, tree }],
    };
  };
}
