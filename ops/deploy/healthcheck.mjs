// The image's HEALTHCHECK: exits 0 when the process answers GET /health/live on its ops port (OPS_PORT), 1 otherwise.
// Liveness only: readiness (/health/ready) is the load balancer's question; a container restarted because PostgreSQL
// is down would not bring PostgreSQL back.
const port = Number(process.env.OPS_PORT ?? 9464);
const url = `http://127.0.0.1:${port}/health/live`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) {
    console.error(`healthcheck: ${url} answered ${res.status}`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  console.error(`healthcheck: ${url} did not answer (${error instanceof Error ? error.message : String(error)})`);
  process.exit(1);
}
