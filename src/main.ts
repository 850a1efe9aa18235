// Entry point: read the configuration, start this node's role, and stop it cleanly on a signal.
import { ConfigError, loadConfig, loadDotEnv, redactUrl, unavailableParts } from './config.js';
import { createLogger } from './logger.js';
import { demoCredentialsText, isDemo } from './demo/demo-accounts.js';
import { startNode } from './node.js';

async function main(): Promise<void> {
  let config;
  try {
    loadDotEnv();
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) process.stderr.write(`config: ${p}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger({ level: config.log.level, nodeId: config.nodeId });
  log.info(
    {
      role: config.role,
      env: config.env,
      postgres: config.postgres.mode === 'external' ? redactUrl(config.postgres.url) : `embedded (${config.postgres.dataDir})`,
      cache: config.cache.mode === 'redis' ? redactUrl(config.cache.url) : 'in-process',
      objects: config.objects.mode === 'external' ? redactUrl(config.objects.endpoint) : `embedded s3rver (${config.objects.dataDir ?? 'temporary folder'})`,
    },
    'starting',
  );
  for (const line of unavailableParts(config)) log.warn(line);
  for (const risk of config.risks) log.warn(`accepted risk: ${risk}`);

  let exitCode = 0;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  let signals = 0;
  const shutdown = (code: number) => {
    exitCode = Math.max(exitCode, code);
    if (!node) process.exit(exitCode);
    node.stop().then(
      () => {
        log.info({ exitCode }, 'stopped');
        log.flush();
        process.exit(exitCode);
      },
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (++signals > 1) {
        log.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(1);
      }
      log.info({ signal: sig }, 'shutting down');
      shutdown(0);
    });
  }

  node = await startNode(config, log, {
    onFatal: (error) => {
      log.fatal({ err: error }, 'the root supervisor gave up; exiting');
      shutdown(1);
    },
  });
  if (node.apiUrl) process.stdout.write(`SamaConso API (${config.role}) listening on ${node.apiUrl}  (docs: ${node.apiUrl}/docs)\n`);
  process.stdout.write(`ops (health, metrics) on ${node.opsUrl}\n`);
  if (node.apiUrl && isDemo(config)) process.stdout.write(demoCredentialsText(node.apiUrl));
  if (node.keys.generated) log.warn('no JWT_PUBLIC_KEYS set: a development signing key was generated; tokens die with this process');
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
