// The test cluster's network: one bridge in the root namespace and, per node, a network namespace joined to it by a
// veth pair, on a private /24 of its own (10.254.X.0/24, bridge .1, nodes .11, .12 …). Owns reserving that subnet,
// building and tearing it all down, cutting a node's link, and removing what a crashed run left behind.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Every namespace, link and registry entry of a test cluster starts with this (interface names are ≤ 15 chars). */
export const CLUSTER_PREFIX = 'rmqc';
// One file per reserved subnet, created exclusively (so two runs never take the same X) and naming its owner: a
// cluster whose owner process is gone is a leftover. /run is a tmpfs, cleared with the namespaces on a reboot.
const REGISTRY = '/run/samaconso-rabbit-clusters';

export interface Reservation {
  /** 4 hex characters, unique among live clusters. */
  readonly id: string;
  /** The third octet: the cluster lives on 10.254.<subnet>.0/24. */
  readonly subnet: number;
  /** The cluster's data folder, removed with it. */
  readonly dir: string;
}

export interface NodeLink {
  readonly namespace: string;
  readonly address: string;
  /** The root-side end of the veth pair, on the bridge: taking it down cuts the node off. */
  readonly rootVeth: string;
}

interface RegistryEntry extends Reservation {
  readonly pid: number;
}

/** Runs a command, failing with its stderr (ip's messages say what went wrong). */
export async function sh(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  try {
    return (await exec(cmd, args, { timeout: timeoutMs })).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the RabbitMQ test cluster needs root: it creates network namespaces, veth pairs and a bridge (ip netns)');
  }
}

export function bridgeName(id: string): string {
  return `${CLUSTER_PREFIX}${id}-br`;
}

export function nodeAddress(subnet: number, index: number): string {
  return `10.254.${subnet}.${11 + index}`;
}

/** Reserves a free 10.254.X.0/24 (not on any interface, not held by another live cluster) and a data folder. */
export async function reserveSubnet(dataRoot: string): Promise<Reservation> {
  mkdirSync(REGISTRY, { recursive: true });
  const inUse = await sh('ip', ['-4', '-o', 'addr', 'show']);
  for (let attempt = 0; attempt < 64; attempt++) {
    const subnet = randomBytes(1)[0]!;
    if (inUse.includes(`10.254.${subnet}.`)) continue;
    const id = randomBytes(2).toString('hex');
    const dir = join(dataRoot, `rabbit-cluster-${id}`);
    const entry: RegistryEntry = { id, subnet, dir, pid: process.pid };
    try {
      writeFileSync(join(REGISTRY, String(subnet)), JSON.stringify(entry), { flag: 'wx' });
    } catch {
      continue; // another live (or leftover) cluster holds this subnet
    }
    return { id, subnet, dir };
  }
  throw new Error('no free 10.254.X.0/24 subnet for a test cluster');
}

/** The bridge with the subnet's .1 (the root namespace's route to the nodes), up. */
export async function createBridge(r: Reservation): Promise<void> {
  const br = bridgeName(r.id);
  await sh('ip', ['link', 'add', br, 'type', 'bridge']);
  await sh('ip', ['addr', 'add', `10.254.${r.subnet}.1/24`, 'dev', br]);
  await sh('ip', ['link', 'set', br, 'up']);
}

/** Node `index`'s namespace (lo up) and veth pair: the root end on the bridge, the other its interface with its address. */
export async function createNodeLink(r: Reservation, index: number): Promise<NodeLink> {
  const namespace = `${CLUSTER_PREFIX}${r.id}-${index + 1}`;
  const rootVeth = `${namespace}r`;
  const nsVeth = `${namespace}n`;
  const address = nodeAddress(r.subnet, index);
  await sh('ip', ['netns', 'add', namespace]);
  await sh('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  await sh('ip', ['link', 'add', rootVeth, 'type', 'veth', 'peer', 'name', nsVeth]);
  await sh('ip', ['link', 'set', nsVeth, 'netns', namespace]);
  await sh('ip', ['link', 'set', rootVeth, 'master', bridgeName(r.id)]);
  await sh('ip', ['link', 'set', rootVeth, 'up']);
  await sh('ip', ['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', nsVeth]);
  await sh('ip', ['-n', namespace, 'link', 'set', nsVeth, 'up']);
  return { namespace, address, rootVeth };
}

/** Takes the node's link down (or up again): down, it reaches neither the other nodes nor the clients. */
export async function setLink(link: NodeLink, up: boolean): Promise<void> {
  await sh('ip', ['link', 'set', link.rootVeth, up ? 'up' : 'down']);
}

/** Pids of every process in a namespace (none when it does not exist). */
export async function namespacePids(namespace: string): Promise<number[]> {
  const out = await sh('ip', ['netns', 'pids', namespace]).catch(() => '');
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/** True once the process is gone (or a zombie nobody reaped: it runs no more). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** SIGKILLs every process in the namespace and waits until they have all died. */
export async function killNamespace(namespace: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pids = (await namespacePids(namespace)).filter((p) => !processGone(p));
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} in ${namespace} survived SIGKILL`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Removes everything of cluster `id`: processes, namespaces, links, the bridge, its data folder and registry entry. */
export async function teardown(r: Reservation): Promise<void> {
  const prefix = `${CLUSTER_PREFIX}${r.id}-`;
  const errors: unknown[] = [];
  const attempt = async (f: () => Promise<unknown>): Promise<void> => {
    await f().catch((e: unknown) => errors.push(e));
  };
  for (const ns of (await listNamespaces()).filter((n) => n.startsWith(prefix))) {
    await attempt(() => killNamespace(ns));
    await attempt(() => sh('ip', ['netns', 'del', ns]));
  }
  // Deleting a namespace deletes its veth ends and so their peers; whatever is left (a half-built pair) goes here.
  for (const link of (await listLinks()).filter((l) => l.startsWith(prefix))) {
    await attempt(() => sh('ip', ['link', 'del', link]));
  }
  if (r.dir) rmSync(r.dir, { recursive: true, force: true });
  const entryFile = join(REGISTRY, String(r.subnet));
  if (readEntry(entryFile)?.id === r.id) rmSync(entryFile, { force: true });
  if (errors.length > 0) throw new AggregateError(errors, `tearing down test cluster ${r.id} left errors`);
}

/**
 * Removes the clusters of runs that are gone: registry entries whose owner process died, and any namespace or link
 * with the prefix that no live registry entry owns (built before a crash). A live run's cluster is left alone.
 * Returns the ids removed.
 */
export async function cleanupLeftoverClusters(): Promise<string[]> {
  requireRoot();
  mkdirSync(REGISTRY, { recursive: true });
  // Names first, the registry after: a run writes its entry before it builds anything, so every namespace or link
  // listed here that belongs to a live run is found in the registry read next (another run may be starting now).
  const names = [...(await listNamespaces()), ...(await listLinks())].filter((n) => n.startsWith(CLUSTER_PREFIX));
  const live = new Set<string>();
  const removed: string[] = [];
  for (const name of readdirSync(REGISTRY)) {
    const file = join(REGISTRY, name);
    const entry = readEntry(file);
    if (entry && !processGone(entry.pid)) {
      live.add(entry.id);
      continue;
    }
    if (entry) {
      await teardown(entry);
      removed.push(entry.id);
    }
    rmSync(file, { force: true });
  }
  const orphanIds = new Set(names.map((n) => n.slice(CLUSTER_PREFIX.length, CLUSTER_PREFIX.length + 4)).filter((id) => !live.has(id) && !removed.includes(id)));
  for (const id of orphanIds) {
    await teardown({ id, subnet: -1, dir: '' });
    removed.push(id);
  }
  return removed;
}

function readEntry(file: string): RegistryEntry | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RegistryEntry;
  } catch {
    return undefined;
  }
}

async function listNamespaces(): Promise<string[]> {
  const out = await sh('ip', ['netns', 'list']);
  return out.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

async function listLinks(): Promise<string[]> {
  const out = await sh('ip', ['-o', 'link', 'show']);
  // "12: rmqc1a2b-1r@if11: <…>": the name, without the peer suffix.
  return out.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter(Boolean);
}
