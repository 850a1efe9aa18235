// The tariff_thresholds table: its read, and the admins' put and delete of one band, checked against the bands rule
// (src/domain/tariff-bands.ts) with the tariff's other bands, under a per-tariff lock.
import type { PoolClient } from 'pg';
import type { Queryable } from '../adapters/postgres/postgres-messages.js';
import type { PutTariffThresholdInput, TariffThreshold } from '../contracts/reference-messages.js';
import { bandProblems, withBand, withoutBand, type BandProblem } from '../domain/tariff-bands.js';
import type { ProblemField } from '../errors/app-error.js';
import type { Change } from './reference-audit.js';
import { TariffBandNotFoundError, TariffBandsConflictError } from './reference-errors.js';

const COLUMNS = `tariff, band, kwh_min::float8 AS "kwhMin", kwh_max::float8 AS "kwhMax", colour, updated_at AS "updatedAt"`;
type ThresholdRow = Omit<TariffThreshold, 'updatedAt'> & { updatedAt: Date };
const view = (r: ThresholdRow): TariffThreshold => ({ ...r, updatedAt: r.updatedAt.toISOString() });

/** Every band of every tariff, by tariff then band. */
export async function loadTariffThresholds(db: Queryable): Promise<TariffThreshold[]> {
  const { rows } = await db.query<ThresholdRow>(`SELECT ${COLUMNS} FROM tariff_thresholds ORDER BY tariff, band`);
  return rows.map(view);
}

/** Creates or replaces one band; refused (409 with the fields) when the tariff's bands would overlap or leave a gap. */
export async function putTariffThreshold(client: PoolClient, tariff: string, band: number, input: PutTariffThresholdInput, at: Date): Promise<Change<{ created: boolean; item: TariffThreshold }>> {
  const bands = await lockedBands(client, tariff);
  const problems = bandProblems(withBand(bands, { band, kwhMin: input.kwhMin, kwhMax: input.kwhMax }));
  if (problems.length) throw new TariffBandsConflictError(tariff, fieldsOfPut(problems, band));
  const { rows } = await client.query<ThresholdRow>(
    `INSERT INTO tariff_thresholds (tariff, band, kwh_min, kwh_max, colour, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tariff, band) DO UPDATE SET kwh_min = EXCLUDED.kwh_min, kwh_max = EXCLUDED.kwh_max, colour = EXCLUDED.colour, updated_at = EXCLUDED.updated_at
     RETURNING ${COLUMNS}`,
    [tariff, band, input.kwhMin, input.kwhMax, input.colour, at],
  );
  const before = bands.find((b) => b.band === band) ?? null;
  const item = view(rows[0]!);
  return { action: before ? 'update' : 'create', before, after: item, result: { created: !before, item } };
}

/** Deletes one band: the top one (deleting another would leave a gap). */
export async function deleteTariffThreshold(client: PoolClient, tariff: string, band: number): Promise<Change<void>> {
  const bands = await lockedBands(client, tariff);
  const before = bands.find((b) => b.band === band);
  if (!before) throw new TariffBandNotFoundError(tariff, band);
  const problems = bandProblems(withoutBand(bands, band));
  if (problems.length) throw new TariffBandsConflictError(tariff, [{ path: 'params.band', message: `only the top band can be deleted: ${problems.map((p) => p.message).join('; ')}` }]);
  await client.query(`DELETE FROM tariff_thresholds WHERE tariff = $1 AND band = $2`, [tariff, band]);
  return { action: 'delete', before, after: null, result: undefined };
}

/** The tariff's bands, with the tariff locked for the transaction (a tariff's first band has no row to lock yet). */
async function lockedBands(client: PoolClient, tariff: string): Promise<TariffThreshold[]> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('tariff_thresholds:' || $1))`, [tariff]);
  const { rows } = await client.query<ThresholdRow>(`SELECT ${COLUMNS} FROM tariff_thresholds WHERE tariff = $1 ORDER BY band`, [tariff]);
  return rows.map(view);
}

/** The sent fields each problem concerns (`body.kwhMin`, `body.kwhMax`, `params.band`); the band itself when none. */
function fieldsOfPut(problems: readonly BandProblem[], band: number): ProblemField[] {
  const fields = problems.flatMap((p) => {
    const own = p.concerns.filter((c) => c.band === band);
    if (!own.length) return [{ path: 'params.band', message: p.message }];
    return own.map((c) => ({ path: c.field === 'band' ? 'params.band' : `body.${c.field}`, message: p.message }));
  });
  return fields.filter((f, i) => fields.findIndex((g) => g.path === f.path && g.message === f.message) === i);
}
