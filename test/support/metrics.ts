// Reading a node's Prometheus exposition on its ops port, as a scraper would.

/**
 * The value of one series (its name and labels as the exposition writes them), or undefined when absent; `node` is
 * a node in the test process (RunningNode) or in its own (NodeProcess): anything with an ops URL.
 */
export async function metricValue(node: { readonly opsUrl: string }, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${node.opsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
