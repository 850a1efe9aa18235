// Prometheus metrics of this process: actor stats read from the supervision tree at scrape time.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ACTOR_STATES, type TreeNode } from './contracts/supervision.js';

export function createMetrics(source: { tree(): TreeNode; deadLetters: Record<string, number> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'samaconso_' });
  const walk = (n: TreeNode, out: TreeNode[] = []): TreeNode[] => {
    out.push(n);
    n.children?.forEach((c) => walk(c, out));
    return out;
  };
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });
  gauge('samaconso_actor_state', '1 for the state each actor or supervisor is in', ['actor', 'kind', 'state'], (g) => {
    for (const n of walk(source.tree())) for (const s of ACTOR_STATES) g.set({ actor: n.name, kind: n.kind, state: s }, n.stats.state === s ? 1 : 0);
  });
  const perNode = (name: string, help: string, pick: (n: TreeNode) => number) =>
    gauge(name, help, ['actor', 'kind'], (g) => {
      for (const n of walk(source.tree())) g.set({ actor: n.name, kind: n.kind }, pick(n));
    });
  perNode('samaconso_actor_mailbox_depth', 'Messages waiting in the actor mailbox', (n) => n.stats.mailboxDepth);
  perNode('samaconso_actor_handled', 'Messages handled since the process started', (n) => n.stats.handled);
  perNode('samaconso_actor_crashes', 'Crashes since the process started', (n) => n.stats.crashes);
  perNode('samaconso_actor_restarts', 'Restarts since the process started', (n) => n.stats.restarts);
  gauge('samaconso_dead_letters', 'Messages that reached no actor, by reason', ['reason'], (g) => {
    for (const [reason, count] of Object.entries(source.deadLetters)) g.set({ reason }, count);
  });
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}
