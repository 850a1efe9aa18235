// The sources supervisor: one actor per configured SQL Server database (source-sic, source-histh2mc, source-bi_ods …).
import { readFileSync } from 'node:fs';
import { sqlSourceActor } from '../../actors/resources/sql-source-actor.js';
import type { CircuitState } from '../../src/adapters/mssql/source-circuit.js';
import { sourceActorName } from '../../src/adapters/mssql/source-messages.js';
import { mssqlPoolFactory, type SourcePoolFactory } from '../../src/adapters/mssql/source-pool.js';
import type { SourceConfig, SourcesConfig } from '../../src/config/sources.js';
import { actor, supervisor, type SupervisorSpec } from '../child-spec.js';
import type { TreeContext } from './tree-context.js';

function poolFactory(source: Extract<SourceConfig, { mode: 'mssql' }>, all: SourcesConfig, appName: string): SourcePoolFactory {
  // Read at each pool's creation, so a renewed CA file is picked up when the pool is recreated.
  return (hooks) =>
    mssqlPoolFactory({
      source: source.name,
      server: source.server,
      port: source.port,
      database: source.database,
      user: source.user,
      password: source.password,
      ca: source.caFile === undefined ? undefined : readFileSync(source.caFile, 'utf8'),
      connectTimeoutMs: all.connectTimeoutMs,
      requestTimeoutMs: all.queryTimeoutMs,
      poolMax: all.poolMax,
      appName,
    })(hooks);
}

export function sourcesSupervisor({ config, onSourceCircuit }: TreeContext): SupervisorSpec {
  const all = config.sources;
  return supervisor({
    name: 'sources',
    intensity: { maxRestarts: 5, withinMs: 60_000 },
    children: all.sources.map((source) =>
      actor({
        name: sourceActorName(source.name),
        // A source outage is shown in readiness but never takes the API out of the load balancer.
        readiness: 'optional',
        behaviour: sqlSourceActor({
          source: source.name,
          mode: source.mode === 'twin' ? { kind: 'twin' } : { kind: 'mssql', pool: poolFactory(source, all, `samaconso-${config.role}`) },
          queryTimeoutMs: all.queryTimeoutMs,
          failureThreshold: all.failureThreshold,
          ...(onSourceCircuit ? { onCircuit: (state: CircuitState) => onSourceCircuit(source.name, state) } : {}),
        }),
      }),
    ),
  });
}
