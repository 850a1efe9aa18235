// Samples the process's memory (RSS and arrayBuffers) after a full collection, keeping the peak above a baseline.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 counts a Buffer in arrayBuffers until a collection frees it, and collects when *it* likes: 30 MB of dropped
// chunks can sit there uncollected. What an upload holds is what survives a collection, so the sampler collects first.
setFlagsFromString('--expose-gc');
// V8 frees a dead Buffer's memory (and lowers arrayBuffers) on a background thread after the collection; on a busy
// machine that lags behind, and dead parts still count. Sweeping in the collection itself makes a sample exact.
setFlagsFromString('--no-concurrent-array-buffer-sweeping');
const gc = runInNewContext('gc') as () => void;

export interface MemoryPeak {
  rss: number;
  arrayBuffers: number;
}

/**
 * Samples until stopped (a full collection, then process.memoryUsage()); keeps the peak of each figure above the
 * baseline taken at start. Between two samples at most `everyMs` of garbage piles up.
 */
export function memorySampler(everyMs = 10): { stop(): MemoryPeak } {
  gc();
  const base = process.memoryUsage();
  const peak: MemoryPeak = { rss: 0, arrayBuffers: 0 };
  const take = (): void => {
    gc();
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss - base.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers - base.arrayBuffers);
  };
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}
