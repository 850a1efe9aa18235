// The supervision tree of one process, by role: what runs, in which order, under which policy.
import { cacheActor } from '../actors/cache.js';
import { controlActor } from '../actors/control.js';
import { embeddedPostgresActor, type EmbeddedPostgresMessage } from '../actors/embedded-postgres.js';
import { postgresActor } from '../actors/postgres.js';
import { referenceActor } from '../actors/reference.js';
import type { Asker } from '../src/actor-behaviour.js';
import type { Config } from '../src/config.js';
import type { SupervisionRegistry } from '../src/contracts/supervision.js';
import { resources } from '../src/resources.js';
import { actor, supervisor, type ChildSpec, type SupervisorSpec } from './child-spec.js';

export const ROOT = 'root';

/** The resources: rest-for-one, so a restarted embedded database also restarts the pool that used it. */
function resourcesSupervisor(config: Config, asker: Asker): SupervisorSpec {
  const children: ChildSpec[] = [];
  const pg = config.postgres;
  if (pg.mode === 'embedded') children.push(actor({ name: 'embedded-postgres', readiness: 'required', behaviour: embeddedPostgresActor(pg.dataDir), shutdownTimeoutMs: 10_000 }));
  const connection =
    pg.mode === 'embedded'
      ? async () => {
          const url = await asker.ask(asker.ref<EmbeddedPostgresMessage>('embedded-postgres'), 'url', {}, 5_000);
          return { url, migrationUrl: url };
        }
      : async () => ({ url: pg.url, migrationUrl: pg.migrationUrl });
  children.push(
    actor({
      name: 'postgres',
      readiness: 'required',
      behaviour: postgresActor({
        connection,
        poolMax: pg.poolMax,
        queryTimeoutMs: pg.queryTimeoutMs,
        migrateOnStart: pg.migrateOnStart,
        applicationName: `samaconso-${config.role}`,
      }),
    }),
    actor({
      name: 'cache',
      // The cache is bypassed while Redis is down: shown in readiness, never making the process unready.
      readiness: 'optional',
      behaviour: cacheActor(config.cache.mode === 'redis' ? { mode: 'redis', url: config.cache.url } : { mode: 'memory', maxEntries: config.cache.maxEntries }),
    }),
  );
  return supervisor({ name: 'resources', strategy: 'rest-for-one', intensity: { maxRestarts: 5, withinMs: 60_000 }, children });
}

/** The tree for this role. `registry` is the runtime itself, given late because it is built first. */
export function rootSpec(config: Config, asker: Asker, registry: () => SupervisionRegistry): SupervisorSpec {
  const children: ChildSpec[] = [actor({ name: 'control', readiness: 'required', behaviour: controlActor(registry, config.role, ROOT) }), resourcesSupervisor(config, asker)];
  if (config.role !== 'worker') {
    const res = resources(asker);
    children.push(supervisor({ name: 'services', children: [actor({ name: 'reference', readiness: 'required', behaviour: referenceActor(res) })] }));
  }
  return supervisor({ name: ROOT, intensity: { maxRestarts: 3, withinMs: 60_000 }, children });
}
