// The cluster view the dashboard shows: the control plane's alive nodes (the node registry's judgement) and each
// one's last snapshot of its supervision tree, asked side by side.
import type { Asker } from '../actor-behaviour.js';
import type { ControlPlaneMessage } from '../contracts/control-plane-messages.js';
import type { ClusterView } from '../contracts/on-call-messages.js';

export function controlPlaneClusterView(asker: Asker, deadlineMs: number): () => Promise<ClusterView> {
  return async () => {
    const controlPlane = asker.ref<ControlPlaneMessage>('control-plane');
    const [{ nodes }, { nodes: trees }] = await Promise.all([asker.ask(controlPlane, 'nodes', {}, deadlineMs), asker.ask(controlPlane, 'trees', {}, deadlineMs)]);
    return { nodes, trees };
  };
}
