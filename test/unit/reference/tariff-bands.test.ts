// The tariff bands rule (src/domain/tariff-bands.ts): contiguous from 0 kWh, no overlap, no gap in the numbering,
// only the top band open — and each break names the bands' fields it concerns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bandProblems, withBand, withoutBand, type TariffBand } from '../../../src/domain/tariff-bands.js';

const SOCIAL: TariffBand[] = [
  { band: 1, kwhMin: 0, kwhMax: 150 },
  { band: 2, kwhMin: 150, kwhMax: 250 },
  { band: 3, kwhMin: 250, kwhMax: null },
];

describe('tariff bands', () => {
  it('accepts contiguous bands from 0 with an open top band, in any order, and no bands at all', () => {
    expect(bandProblems(SOCIAL)).toEqual([]);
    expect(bandProblems([...SOCIAL].reverse())).toEqual([]);
    expect(bandProblems([])).toEqual([]);
    expect(bandProblems([{ band: 1, kwhMin: 0, kwhMax: 100 }])).toEqual([]);
  });

  it('refuses an overlap, naming both sides of the boundary', () => {
    const problems = bandProblems(withBand(SOCIAL, { band: 2, kwhMin: 150, kwhMax: 300 }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/overlaps band 2/);
    expect(problems[0]!.concerns).toEqual([
      { band: 2, field: 'kwhMax' },
      { band: 3, field: 'kwhMin' },
    ]);
  });

  it('refuses a gap between two bands', () => {
    const problems = bandProblems(withBand(SOCIAL, { band: 2, kwhMin: 150, kwhMax: 200 }));
    expect(problems.map((p) => p.message)).toEqual(['band 3 starts at 250 kWh: it leaves a gap below band 2, which ends at 200 kWh']);
  });

  it('refuses a gap in the numbering, a first band above 0 and an open band below another', () => {
    expect(bandProblems(withBand(SOCIAL, { band: 5, kwhMin: 400, kwhMax: null }))[0]!.concerns).toContainEqual({ band: 5, field: 'band' });
    expect(bandProblems(withoutBand(SOCIAL, 2))[0]!.concerns).toEqual([{ band: 3, field: 'band' }]);
    expect(bandProblems(withBand(SOCIAL, { band: 1, kwhMin: 10, kwhMax: 150 }))[0]!.concerns).toEqual([{ band: 1, field: 'kwhMin' }]);
    expect(bandProblems(withBand(SOCIAL, { band: 2, kwhMin: 150, kwhMax: null }))[0]!.message).toMatch(/band 2 is open-ended but band 3 lies above it/);
  });

  it('allows removing the top band only', () => {
    expect(bandProblems(withoutBand(SOCIAL, 3))).toEqual([]);
    expect(bandProblems(withoutBand(SOCIAL, 1))).not.toEqual([]);
  });

  it('finds no problem exactly when every consumption falls in one band (property)', () => {
    const bands = fc.array(
      fc.record({ band: fc.integer({ min: 1, max: 5 }), kwhMin: fc.integer({ min: 0, max: 6 }).map((k) => k * 50), kwhMax: fc.option(fc.integer({ min: 0, max: 6 }).map((k) => k * 50)) }),
      { maxLength: 5 },
    ).map((bs) => bs.filter((b, i) => bs.findIndex((c) => c.band === b.band) === i));
    fc.assert(
      fc.property(bands, (bs) => {
        const ok = bandProblems(bs).length === 0;
        const sorted = [...bs].sort((a, b) => a.band - b.band);
        // Each consumption (by half kWh) from 0 to the top band's end — or well past its start when it is open — falls
        // in exactly one band.
        const inBands = (kwh: number) => sorted.filter((b) => kwh >= b.kwhMin && (b.kwhMax === null || kwh < b.kwhMax)).length;
        const last = sorted.at(-1);
        const end = last ? (last.kwhMax ?? Math.max(...sorted.map((b) => b.kwhMin)) + 100) : 0;
        const covered = Array.from({ length: 2 * end }, (_, k) => k / 2).every((kwh) => inBands(kwh) === 1);
        const numbered = sorted.every((b, i) => b.band === i + 1);
        const openOnlyOnTop = sorted.every((b, i) => b.kwhMax !== null || i === sorted.length - 1);
        const nonEmpty = sorted.every((b) => b.kwhMax === null || b.kwhMax > b.kwhMin);
        // Band numbers follow consumption: band 1 is the lowest.
        const ascending = sorted.every((b, i) => i === 0 || b.kwhMin > sorted[i - 1]!.kwhMin);
        expect(ok).toBe(sorted.length === 0 || (covered && numbered && openOnlyOnTop && nonEmpty && ascending));
      }),
      { numRuns: 20_000 },
    );
  });
});
