// The resources supervisor: the embedded database (when no DATABASE_URL), the pg pool and the cache, rest-for-one
// so a restarted embedded database also restarts the pool that used it.
import { cacheActor } from '../../actors/resources/cache-actor.js';
import { embeddedPostgresActor, type EmbeddedPostgresMessage } from '../../actors/resources/embedded-postgres-actor.js';
import { postgresActor } from '../../actors/resources/postgres-actor.js';
import { actor, supervisor, type SupervisorSpec } from '../child-spec.js';
import type { TreeContext } from './tree-context.js';

export function resourcesSupervisor({ config, asker }: TreeContext): SupervisorSpec {
  const pg = config.postgres;
  const embedded = pg.mode === 'embedded';
  const connection = embedded
    ? async () => {
        const url = await asker.ask(asker.ref<EmbeddedPostgresMessage>('embedded-postgres'), 'url', {}, 5_000);
        return { url, migrationUrl: url };
      }
    : async () => ({ url: pg.url, migrationUrl: pg.migrationUrl });
  return supervisor({
    name: 'resources',
    strategy: 'rest-for-one',
    intensity: { maxRestarts: 5, withinMs: 60_000 },
    children: [
      ...(embedded ? [actor({ name: 'embedded-postgres', readiness: 'required', behaviour: embeddedPostgresActor(pg.dataDir), shutdownTimeoutMs: 10_000 })] : []),
      actor({
        name: 'postgres',
        readiness: 'required',
        behaviour: postgresActor({
          connection,
          poolMax: pg.poolMax,
          queryTimeoutMs: pg.queryTimeoutMs,
          acquireTimeoutMs: pg.acquireTimeoutMs,
          migrateOnStart: pg.migrateOnStart,
          applicationName: `samaconso-${config.role}`,
        }),
      }),
      // The cache is bypassed while Redis is down: shown in readiness, never making the process unready.
      actor({
        name: 'cache',
        readiness: 'optional',
        behaviour: cacheActor(config.cache.mode === 'redis' ? { mode: 'redis', url: config.cache.url } : { mode: 'memory', maxEntries: config.cache.maxEntries }),
      }),
    ],
  });
}
