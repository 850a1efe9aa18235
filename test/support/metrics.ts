// Reading a node's Prometheus exposition on its ops port, as a scraper would.
import type { RunningNode } from '../../src/node.js';

/** The value of one series (its name and labels as the exposition writes them), or undefined when absent. */
export async function metricValue(node: RunningNode, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${node.opsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
