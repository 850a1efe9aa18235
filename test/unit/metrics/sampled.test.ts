// The scrape-time readings of the database and the broker are bounded: one reading per interval however often
// /metrics is scraped, shared by concurrent scrapes, and a failed reading leaves the families empty.
import { describe, expect, it } from 'vitest';
import { sampledEvery } from '../../../src/sampled.js';

describe('sampledEvery', () => {
  it('reads once per interval however many scrapes come in between', async () => {
    let now = 0;
    let reads = 0;
    const sample = sampledEvery(async () => ++reads, 5_000, () => now);
    expect(await sample()).toBe(1);
    now = 4_999;
    expect(await sample()).toBe(1);
    expect(await sample()).toBe(1);
    now = 5_000;
    expect(await sample()).toBe(2);
    expect(reads).toBe(2);
  });

  it('shares one reading among scrapes that arrive while it is in flight', async () => {
    let reads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sample = sampledEvery(async () => {
      reads++;
      await gate;
      return 'depths';
    }, 5_000);
    const scrapes = [sample(), sample(), sample()];
    release();
    expect(await Promise.all(scrapes)).toEqual(['depths', 'depths', 'depths']);
    expect(reads).toBe(1);
  });

  it('answers undefined when the reading fails, and reads again after the interval', async () => {
    let now = 0;
    let fail = true;
    const sample = sampledEvery(
      async () => {
        if (fail) throw new Error('database down');
        return 7;
      },
      1_000,
      () => now,
    );
    expect(await sample()).toBeUndefined();
    fail = false;
    expect(await sample()).toBeUndefined();
    now = 1_000;
    expect(await sample()).toBe(7);
  });
});
