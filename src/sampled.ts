// A value read at most once per `maxAgeMs` however often /metrics is scraped: scrapes within that age share the
// last reading (or the one in flight), so a scrape storm costs one query, not one per scrape.
export function sampledEvery<T>(read: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now): () => Promise<T | undefined> {
  let last: { at: number; value: T | undefined } | undefined;
  let pending: Promise<T | undefined> | undefined;
  return () => {
    if (last && now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    pending ??= read()
      .catch(() => undefined) // a failed read (database down) shows as no series, and is retried after maxAgeMs
      .then((value) => {
        last = { at: now(), value };
        pending = undefined;
        return value;
      });
    return pending;
  };
}
