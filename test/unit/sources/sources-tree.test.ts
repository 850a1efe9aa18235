import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { sourcesSupervisor } from '../../../supervisors/tree/sources.js';
import type { TreeContext } from '../../../supervisors/tree/tree-context.js';

// Only the config is read to declare the sources.
const specFor = (env: NodeJS.ProcessEnv) => sourcesSupervisor({ config: loadConfig(env) } as TreeContext);

describe('sources supervisor', () => {
  it('declares one optional actor per configured source, a new database by configuration alone', () => {
    const spec = specFor({ SQL_SOURCES: 'sic,histh2mc,bi_ods,gis', SQL_GIS_URL: 'mssql://reader:pw@gis.example/GIS' });
    expect(spec.children.map((c) => c.name)).toEqual(['source-sic', 'source-histh2mc', 'source-bi_ods', 'source-gis']);
    expect(spec.children.every((c) => c.kind === 'actor' && c.readiness === 'optional')).toBe(true);
  });

  it('declares none when SQL_SOURCES is empty', () => {
    expect(specFor({ SQL_SOURCES: '' }).children).toEqual([]);
  });
});
