// The registry of ended sessions on its own: answers from memory (no database) once the bus is up and the memory was
// rebuilt since; asks PostgreSQL (here a recording stand-in) before that and while the bus is down; keeps the
// announcements it could not publish and publishes them when the bus returns.
import { describe, expect, it } from 'vitest';
import { SessionRevocations } from '../../../src/accounts/session-revocations.js';
import { ManualClock } from '../../../src/clock.js';
import type { PgHandle } from '../../../src/adapters/postgres/postgres-messages.js';
import { silentLogger } from '../../../src/logger.js';
import { SwitchableBus } from '../../support/switchable-live-bus.js';

const USER = '00000000-0000-4000-8000-000000000001';
const S1 = '00000000-0000-4000-8000-0000000000a1';
const S2 = '00000000-0000-4000-8000-0000000000a2';
const S3 = '00000000-0000-4000-8000-0000000000a3';

/** PostgreSQL as the registry sees it: sessions' states and ended_at, with every query recorded. */
function database(sessions: Map<string, { state: string; endedAt?: number }>) {
  const queries: string[] = [];
  const handle = {
    query: async (text: string, values: unknown[] = []) => {
      queries.push(text);
      if (text.includes('GROUP BY user_id')) {
        const since = (values[0] as Date).getTime();
        const ids = [...sessions].filter(([, s]) => s.endedAt !== undefined && s.endedAt > since).map(([id]) => id);
        return { rows: ids.length ? [{ user_id: USER, ids }] : [] };
      }
      const s = sessions.get(values[0] as string);
      return { rows: s ? [{ state: s.state }] : [] };
    },
  } as unknown as PgHandle;
  return { queries, db: () => Promise.resolve(handle) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(sessions: Map<string, { state: string; endedAt?: number }>) {
  const clock = new ManualClock(Date.UTC(2026, 11, 3, 9));
  const bus = new SwitchableBus(false);
  const pg = database(sessions);
  const reg = new SessionRevocations({ bus, db: pg.db, clock, rememberMs: 15 * 60_000, log: silentLogger() });
  return { clock, bus, pg, reg };
}

describe('ended-session registry', () => {
  it('answers from memory, without a database query, once the bus is up and the memory rebuilt', async () => {
    const sessions = new Map([[S1, { state: 'active' }], [S2, { state: 'ended', endedAt: Date.UTC(2026, 11, 3, 8, 55) }]]);
    const { bus, pg, reg } = setup(sessions);
    reg.start();
    bus.set(true);
    await flush();
    expect(reg.stats().trusted).toBe(true);
    const before = pg.queries.length;
    expect(await reg.isEnded(S1)).toBe(false);
    expect(await reg.isEnded(S2)).toBe(true); // loaded by the rebuild
    expect(pg.queries.length).toBe(before);
  });

  it('asks PostgreSQL while the bus is down, and before the first rebuild', async () => {
    const sessions = new Map([[S1, { state: 'active' }], [S2, { state: 'ended' }]]);
    const { bus, pg, reg } = setup(sessions);
    reg.start();
    expect(await reg.isEnded(S2)).toBe(true);
    expect(await reg.isEnded(S1)).toBe(false);
    expect(await reg.isEnded(S3)).toBe(true); // no such session
    expect(pg.queries.filter((q) => q.includes('WHERE id = $1'))).toHaveLength(3);
    bus.set(true);
    await flush();
    bus.set(false);
    sessions.set(S1, { state: 'ended' }); // ended elsewhere while the bus was down: the announcement is lost
    expect(await reg.isEnded(S1)).toBe(true);
  });

  it('is not trusted after a reconnect until it has been rebuilt, so a lost announcement is still enforced', async () => {
    const sessions = new Map<string, { state: string; endedAt?: number }>([[S1, { state: 'active' }]]);
    const { clock, bus, reg } = setup(sessions);
    reg.start();
    bus.set(true);
    await flush();
    bus.set(false);
    sessions.set(S1, { state: 'ended', endedAt: clock.now() });
    bus.set(true);
    await flush();
    expect(reg.stats()).toMatchObject({ trusted: true, rebuilds: 2 });
    expect(await reg.isEnded(S1)).toBe(true);
  });

  it('refuses an announced session at once here and on every instance hearing the bus; forgets it after a token lifetime', async () => {
    const { clock, bus, pg, reg } = setup(new Map());
    const other = new SessionRevocations({ bus, db: pg.db, clock, rememberMs: 15 * 60_000, log: silentLogger() });
    const closed: string[][] = [];
    other.onEnded((e) => closed.push([...e.sessionIds]));
    reg.start();
    other.start();
    bus.set(true);
    await flush();
    reg.announce({ userId: USER, sessionIds: [S1] });
    expect(await reg.isEnded(S1)).toBe(true);
    expect(await other.isEnded(S1)).toBe(true);
    expect(closed).toContainEqual([S1]);
    clock.advance(15 * 60_000 + 1);
    expect(await other.isEnded(S1)).toBe(false); // every token of it has expired by now
  });

  it('keeps what it could not announce and publishes it when the bus returns', async () => {
    const { bus, reg } = setup(new Map());
    reg.start();
    reg.announce({ userId: USER, sessionIds: [S1, S2] });
    await flush();
    expect(reg.stats().pending).toBe(1);
    expect(await reg.isEnded(S2)).toBe(true); // refused here meanwhile
    bus.set(true);
    await flush();
    expect(bus.published).toEqual([{ v: 1, kind: 'sessions-ended', userId: USER, sessionIds: [S1, S2] }]);
    expect(reg.stats().pending).toBe(0);
  });
});
