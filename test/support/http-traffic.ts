// Steady HTTP traffic through the load balancer during a scale-out test: `concurrency` loops, each sending one
// request after the other, every answer counted; a failure keeps its status (or the network error) and its time, so
// a test can tell the requests cut off by a killed process from any other failure.
import { performance } from 'node:perf_hooks';

export interface TrafficFailure {
  /** The HTTP status, or 0 when no answer came (connection reset, refused …). */
  readonly status: number;
  readonly error: string | undefined;
  /** performance.now() when the request was sent and when it failed. */
  readonly sentAt: number;
  readonly failedAt: number;
}

export interface TrafficReport {
  readonly ok: number;
  readonly failures: readonly TrafficFailure[];
}

export interface Traffic {
  /** Stops sending; resolves once every loop's last request has settled. */
  stop(): Promise<TrafficReport>;
}

/** GETs `path` with the bearer token, `concurrency` requests at a time, until stopped. */
export function startTraffic(baseUrl: string, token: string, options: { path: string; concurrency: number; timeoutMs?: number }): Traffic {
  let ok = 0;
  const failures: TrafficFailure[] = [];
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      const sentAt = performance.now();
      try {
        const res = await fetch(`${baseUrl}${options.path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else failures.push({ status: res.status, error: undefined, sentAt, failedAt: performance.now() });
      } catch (error) {
        failures.push({ status: 0, error: String((error as { cause?: unknown }).cause ?? error), sentAt, failedAt: performance.now() });
      }
    }
  };
  const loops = Array.from({ length: options.concurrency }, loop);
  const report = (): TrafficReport => ({ ok, failures: [...failures] });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return report();
    },
  };
}
