// Reads of slow or failing sources through the cache: fresh for a TTL, kept longer to answer while the source is
// down (marked stale, with its age), and one load per key at a time in this process (no stampede on an expiry).
import { hash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Cache } from './cache.js';

export interface StaleReadPolicy {
  /** How long an answer is served as fresh. */
  readonly ttlMs: number;
  /** How much longer it is kept to be served, marked stale, while a load fails with an outage. */
  readonly staleMs: number;
}

export interface CachedRead<T> {
  readonly value: T;
  /** True when the load failed and an older answer is served instead. */
  readonly stale: boolean;
  /** Milliseconds since the answer was loaded (0 for a fresh load). */
  readonly ageMs: number;
}

interface Entry<T> {
  readonly v: T;
  /** When the value was loaded, on the injected clock. */
  readonly at: number;
}

/** A namespaced, versioned key: bump `version` when a query's result shape changes, and old entries are never read. */
export function sourceKey(source: string, query: string, version: number, params: unknown): string {
  const digest = hash('sha256', JSON.stringify(params ?? null), 'base64url').slice(0, 22);
  return `src:${source}:${query}:v${version}:${digest}`;
}

/** Fresh answers held in this process unless told otherwise. */
const DEFAULT_LOCAL_ENTRIES = 2_000;

export class StaleReads {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  // The first level, in this process, before the shared cache: an answer is the source's as of `at` and never changes,
  // so holding it here until its TTL ends serves exactly what the shared cache would, without its round trip. Only
  // fresh answers are served from here; stale ones come from the shared cache's longer retention.
  private readonly local = new Map<string, Entry<unknown> & { readonly ttlMs: number }>();

  /**
   * @param cache the cache to use now, or undefined when none is at hand (then every read loads)
   * @param servesStale which load failures may be answered from a stale entry (outages, not a bad query)
   * @param localEntries fresh answers held in this process, the oldest dropped first (0: none)
   */
  constructor(
    private readonly cache: () => Promise<Cache | undefined>,
    private readonly clock: Clock,
    private readonly servesStale: (error: unknown) => boolean,
    private readonly localEntries = DEFAULT_LOCAL_ENTRIES,
  ) {}

  async read<T>(key: string, policy: StaleReadPolicy, load: () => Promise<T>): Promise<CachedRead<T>> {
    const held = this.fresh<T>(key, policy);
    if (held) return held;
    const cache = await this.cache().catch(() => undefined);
    // A load of this key in flight answers this caller too: no second source call, not even a cache read.
    const running = this.inFlight.get(key) as Promise<T> | undefined;
    let entry = running || !cache ? undefined : await this.entry<T>(cache, key);
    const now = this.clock.now();
    if (entry && now - entry.at < policy.ttlMs) {
      this.hold(key, entry, policy);
      return { value: entry.v, stale: false, ageMs: now - entry.at };
    }
    try {
      const value = await (running ??
        this.loadOnce(key, async () => {
          const v = await load();
          const loaded: Entry<T> = { v, at: this.clock.now() };
          this.hold(key, loaded, policy);
          await cache?.set(key, JSON.stringify(loaded), policy.ttlMs + policy.staleMs);
          return v;
        }));
      return { value, stale: false, ageMs: 0 };
    } catch (error) {
      if (!this.servesStale(error)) throw error;
      entry ??= cache ? await this.entry<T>(cache, key) : undefined;
      if (!entry) throw error;
      return { value: entry.v, stale: true, ageMs: this.clock.now() - entry.at };
    }
  }

  /** The answer held in this process while it is fresh by the read's policy; a lapsed one is dropped. */
  private fresh<T>(key: string, policy: StaleReadPolicy): CachedRead<T> | undefined {
    const held = this.local.get(key);
    if (!held) return undefined;
    const ageMs = this.clock.now() - held.at;
    if (ageMs < Math.min(policy.ttlMs, held.ttlMs)) return { value: held.v as T, stale: false, ageMs };
    this.local.delete(key);
    return undefined;
  }

  private hold<T>(key: string, entry: Entry<T>, policy: StaleReadPolicy): void {
    if (this.localEntries <= 0) return;
    this.local.delete(key); // re-inserted last: the Map's order is the order of arrival, the first is dropped first
    if (this.local.size >= this.localEntries) this.local.delete(this.local.keys().next().value as string);
    this.local.set(key, { ...entry, ttlMs: policy.ttlMs });
  }

  private async entry<T>(cache: Cache, key: string): Promise<Entry<T> | undefined> {
    const raw = await cache.get(key);
    if (raw === undefined) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<Entry<T>>;
      return typeof parsed.at === 'number' && 'v' in parsed ? (parsed as Entry<T>) : undefined;
    } catch {
      return undefined; // a corrupt entry is a miss
    }
  }

  /** Concurrent callers of one key share the load in flight. */
  private loadOnce<T>(key: string, load: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running as Promise<T>;
    const started = load().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
