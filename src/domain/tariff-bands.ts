// The rule a tariff's consumption bands keep: numbered 1..n, band 1 from 0 kWh, each band starting where the one
// below ends, only the top band open-ended — so every consumption falls in exactly one band.

export interface TariffBand {
  readonly band: number;
  readonly kwhMin: number;
  /** Null: open-ended (the top band only). */
  readonly kwhMax: number | null;
}

/** One break of the rule, with the bands' fields it concerns (a boundary concerns the two bands on each side). */
export interface BandProblem {
  readonly message: string;
  readonly concerns: readonly { readonly band: number; readonly field: 'band' | 'kwhMin' | 'kwhMax' }[];
}

/** Every break of the rule in `bands` (any order); none when the bands are contiguous and do not overlap. */
export function bandProblems(bands: readonly TariffBand[]): BandProblem[] {
  const sorted = [...bands].sort((a, b) => a.band - b.band);
  const problems: BandProblem[] = [];
  sorted.forEach((b, i) => {
    if (b.band !== i + 1) {
      problems.push({ message: `band ${b.band} leaves a gap: band ${i + 1} is missing`, concerns: [{ band: b.band, field: 'band' }] });
      return;
    }
    if (b.kwhMax !== null && b.kwhMax <= b.kwhMin) {
      problems.push({ message: `band ${b.band} ends at or below where it starts`, concerns: [{ band: b.band, field: 'kwhMax' }] });
    }
    const below = sorted[i - 1];
    if (!below) {
      if (b.kwhMin !== 0) problems.push({ message: 'band 1 must start at 0 kWh', concerns: [{ band: 1, field: 'kwhMin' }] });
      return;
    }
    const boundary = [
      { band: below.band, field: 'kwhMax' as const },
      { band: b.band, field: 'kwhMin' as const },
    ];
    if (below.kwhMax === null) problems.push({ message: `band ${below.band} is open-ended but band ${b.band} lies above it`, concerns: boundary });
    else if (below.kwhMax !== b.kwhMin) {
      const how = below.kwhMax > b.kwhMin ? 'overlaps' : 'leaves a gap below';
      problems.push({ message: `band ${b.band} starts at ${b.kwhMin} kWh: it ${how} band ${below.band}, which ends at ${below.kwhMax} kWh`, concerns: boundary });
    }
  });
  return problems;
}

/** The bands once `band` is put (created or replaced). */
export function withBand(bands: readonly TariffBand[], band: TariffBand): TariffBand[] {
  return [...bands.filter((b) => b.band !== band.band), band];
}

/** The bands once `band` is removed. */
export function withoutBand(bands: readonly TariffBand[], band: number): TariffBand[] {
  return bands.filter((b) => b.band !== band);
}
