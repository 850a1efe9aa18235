// Steady HTTP traffic through the load balancer during a scale-out test: `concurrency` loops, each sending one
// request after the other, every answer counted; a failure keeps its status (or the network error) and its time, so
// a test can tell the requests cut off by a killed process from any other failure.
// Each request goes on a connection of its own, so that HAProxy's log witnesses every request a killed server cut
// off: it answers such a request 502 and logs it (termination SH), but one that came on a reused keep-alive
// connection it answers by closing that connection, and logs nothing (HAProxy 2.6; measured: the per-server eresp
// counter missed some of them too).
import { request } from 'node:http';
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
        const status = await getOnce(`${baseUrl}${options.path}`, token, options.timeoutMs ?? 30_000);
        if (status === 200) ok++;
        else failures.push({ status, error: undefined, sentAt, failedAt: performance.now() });
      } catch (error) {
        failures.push({ status: 0, error: String(error), sentAt, failedAt: performance.now() });
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

/** One GET on a connection of its own (no keep-alive); resolves with the status once the whole body is read. */
function getOnce(url: string, token: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { authorization: `Bearer ${token}` }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
      res.once('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the whole answer came'));
      });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}
