// CustomerDataReader over a fake asker: source answers mapped and cached, outages answered stale, query errors never,
// the policy and versioned key of each read, one source ask for concurrent reads of one key, and no cache = no failure.
import { describe, expect, it } from 'vitest';
import type { ActorRef, Asker, Message } from '../../../src/actor-behaviour.js';
import { MemoryCache } from '../../../src/adapters/cache/memory-cache.js';
import { sourceKey } from '../../../src/adapters/cache/stale-reads.js';
import { SourceQueryError, SourceTimeoutError, SourceUnavailableError } from '../../../src/adapters/mssql/source-errors.js';
import type { SourceQuery, SourceRow } from '../../../src/adapters/mssql/source-messages.js';
import { ManualClock } from '../../../src/clock.js';
import {
  CustomerDataReader, SOURCE_QUERIES, contractDetails, isSourceOutageForReads, latestBills, readCachePolicy, registerAppMeter,
  subscriptionSteps,
} from '../../../src/customer-data/index.js';
import { ActorCrashedError, ActorNotFoundError, ActorRestartingError, ActorStoppedError, QueryTimeoutError } from '../../../src/errors/actor-errors.js';

const CONTRACT_ROW = { VKONT: '000012345678', GPART: '0001000001', NAME_FIRST: 'Awa', NAME_LAST: 'Diop', TELNR_CALL: '77 123 45 67', SMTP_ADDR: null };
const CONTRACT = { contractAccount: '12345678', partner: '1000001', firstName: 'Awa', lastName: 'Diop', phone: '+221771234567', email: null };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Ask {
  to: string;
  query: SourceQuery;
  deadlineMs: number;
}

/** An asker whose `cache` lends a MemoryCache (or fails) and whose sources answer with `answer`. */
function setup(options: { cache?: 'memory' | 'down' } = {}) {
  const clock = new ManualClock();
  const cache = new MemoryCache(clock, 100);
  const asks: Ask[] = [];
  let answer: (q: SourceQuery) => Promise<readonly SourceRow[]> = async () => [CONTRACT_ROW];
  const asker: Asker = {
    ref: <M extends Message>(name: string): ActorRef<M> => ({ name, tell: () => {} }),
    query: () => Promise.reject(new Error('not used')),
    ask: (async (to: ActorRef<Message>, _type: string, payload: { query: SourceQuery }, deadlineMs: number) => {
      if (to.name === 'cache') {
        if (options.cache === 'down') throw new ActorRestartingError('cache');
        return cache;
      }
      asks.push({ to: to.name, query: payload.query, deadlineMs });
      return answer(payload.query);
    }) as Asker['ask'],
  };
  const reader = new CustomerDataReader({ asker, clock, queryTimeoutMs: 10_000 });
  return {
    clock,
    reader,
    asks,
    answerWith: (f: (q: SourceQuery) => Promise<readonly SourceRow[]>) => (answer = f),
  };
}

describe('CustomerDataReader', () => {
  it('asks the query on its source actor with its parameters, maps the rows, and serves the next read from the cache', async () => {
    const s = setup();
    expect(await s.reader.read(contractDetails, { account: '12345678' })).toEqual({ rows: [CONTRACT], stale: false, ageMs: 0 });
    expect(s.asks).toEqual([
      {
        to: 'source-bi_ods',
        query: { name: 'contract-details', tsql: contractDetails.tsql, twin: contractDetails.twin, params: { account: '000012345678' } },
        // Longer than the source's own deadline, even with its one retry.
        deadlineMs: 21_000,
      },
    ]);
    s.clock.advance(30 * MINUTE);
    expect(await s.reader.read(contractDetails, { account: '12345678' })).toEqual({ rows: [CONTRACT], stale: false, ageMs: 30 * MINUTE });
    expect(s.asks).toHaveLength(1);
  });

  it('answers an outage past the TTL with the cached rows, marked stale with their age', async () => {
    for (const outage of [
      new SourceUnavailableError('bi_ods', 5_000, 'circuit-open'),
      new SourceTimeoutError('bi_ods', 'contract-details', 10_000),
      new ActorRestartingError('source-bi_ods'),
      new ActorNotFoundError('source-bi_ods'),
      new ActorStoppedError('source-bi_ods'),
      new QueryTimeoutError('source-bi_ods', 'query', 21_000),
    ]) {
      const s = setup();
      await s.reader.read(contractDetails, { account: '12345678' });
      s.clock.advance(2 * HOUR);
      s.answerWith(() => Promise.reject(outage));
      expect({ code: outage.code, answer: await s.reader.read(contractDetails, { account: '12345678' }) }).toEqual({
        code: outage.code,
        answer: { rows: [CONTRACT], stale: true, ageMs: 2 * HOUR },
      });
      expect(s.asks).toHaveLength(2);
    }
  });

  it('fails an outage with its typed error when nothing was cached', async () => {
    const s = setup();
    s.answerWith(() => Promise.reject(new SourceUnavailableError('bi_ods', 5_000, 'circuit-open')));
    await expect(s.reader.read(contractDetails, { account: '12345678' })).rejects.toBeInstanceOf(SourceUnavailableError);
  });

  it('never answers a query error or a row the mapper refuses from the cache', async () => {
    const s = setup();
    await s.reader.read(contractDetails, { account: '12345678' });
    s.clock.advance(2 * HOUR);
    s.answerWith(() => Promise.reject(new SourceQueryError('bi_ods', 'contract-details', 207)));
    await expect(s.reader.read(contractDetails, { account: '12345678' })).rejects.toMatchObject({ code: 'SOURCE_QUERY_FAILED' });
    s.answerWith(async () => [{ ...CONTRACT_ROW, VKONT: null }]);
    await expect(s.reader.read(contractDetails, { account: '12345678' })).rejects.toMatchObject({ code: 'SOURCE_ROW_INVALID' });
    // The refused row was not cached: a good answer is asked for again.
    s.answerWith(async () => [CONTRACT_ROW]);
    expect(await s.reader.read(contractDetails, { account: '12345678' })).toEqual({ rows: [CONTRACT], stale: false, ageMs: 0 });
  });

  it('takes only outages for stale answers: a crash, a query error and a bad row are not', () => {
    expect(isSourceOutageForReads(new SourceUnavailableError('sic', 1_000, 'connecting'))).toBe(true);
    expect(isSourceOutageForReads(new QueryTimeoutError('source-sic', 'query', 1_000))).toBe(true);
    expect(isSourceOutageForReads(new ActorCrashedError('source-sic', new Error('bug')))).toBe(false);
    expect(isSourceOutageForReads(new SourceQueryError('sic', 'q', 102))).toBe(false);
    expect(isSourceOutageForReads(new Error('ECONNRESET'))).toBe(false);
  });

  it('makes one source ask for ten concurrent reads of one key', async () => {
    const s = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.answerWith(async () => {
      await gate;
      return [CONTRACT_ROW];
    });
    const reads = Array.from({ length: 10 }, () => s.reader.read(contractDetails, { account: '12345678' }));
    // Every read reaches the in-flight load before the source answers.
    await new Promise((r) => setImmediate(r));
    release();
    const answers = await Promise.all(reads);
    expect(s.asks).toHaveLength(1);
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ rows: [CONTRACT], stale: false, ageMs: 0 })));
  });

  it('reads from the source when the cache cannot lend: never a failure, the answer held in this process for its TTL only', async () => {
    const s = setup({ cache: 'down' });
    expect(await s.reader.read(contractDetails, { account: '12345678' })).toEqual({ rows: [CONTRACT], stale: false, ageMs: 0 });
    expect(await s.reader.read(contractDetails, { account: '12345678' })).toEqual({ rows: [CONTRACT], stale: false, ageMs: 0 });
    expect(s.asks).toHaveLength(1);
    s.clock.advance(readCachePolicy(contractDetails.name).ttlMs);
    expect(await s.reader.read(contractDetails, { account: '12345678' })).toEqual({ rows: [CONTRACT], stale: false, ageMs: 0 });
    expect(s.asks).toHaveLength(2);
  });

  it('refuses a bad input with a 400 before asking anything', async () => {
    const s = setup();
    await expect(s.reader.read(latestBills, { account: '', limit: 6 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(s.asks).toHaveLength(0);
  });
});

describe('read cache policies', () => {
  it('gives every read a policy, stale retention longer than its TTL; the write has none', () => {
    for (const query of SOURCE_QUERIES.filter((q) => q.kind === 'read')) {
      const policy = readCachePolicy(query.name);
      expect(policy.staleMs, query.name).toBeGreaterThan(policy.ttlMs);
      expect(Number.isInteger(policy.version), query.name).toBe(true);
    }
    expect(() => readCachePolicy(registerAppMeter.name)).toThrow(/no cache policy/);
  });

  it('keeps bills fresh for minutes, contracts for an hour, subscription steps for a minute, each a day for outages', () => {
    expect(readCachePolicy(latestBills.name)).toMatchObject({ ttlMs: 5 * MINUTE, staleMs: 24 * HOUR });
    expect(readCachePolicy(contractDetails.name)).toMatchObject({ ttlMs: HOUR, staleMs: 24 * HOUR });
    expect(readCachePolicy(subscriptionSteps.name)).toMatchObject({ ttlMs: MINUTE, staleMs: 24 * HOUR });
  });

  it('serves a subscription step fresh for a minute only, a contract for an hour', async () => {
    const s = setup();
    s.answerWith(async (q) => (q.name === 'contract-details' ? [CONTRACT_ROW] : []));
    await s.reader.read(contractDetails, { account: '12345678' });
    await s.reader.read(subscriptionSteps, { notice: '400001234' });
    s.clock.advance(MINUTE + 1);
    await s.reader.read(contractDetails, { account: '12345678' });
    await s.reader.read(subscriptionSteps, { notice: '400001234' });
    expect(s.asks.map((a) => a.query.name)).toEqual(['contract-details', 'subscription-steps', 'subscription-steps']);
  });

  it("keys each entry by source, query, the query's version and its normalised parameters", async () => {
    const clock = new ManualClock();
    const cache = new MemoryCache(clock, 100);
    const asker: Asker = {
      ref: <M extends Message>(name: string): ActorRef<M> => ({ name, tell: () => {} }),
      query: () => Promise.reject(new Error('not used')),
      ask: (async (to: ActorRef<Message>) => (to.name === 'cache' ? cache : [CONTRACT_ROW])) as Asker['ask'],
    };
    await new CustomerDataReader({ asker, clock, queryTimeoutMs: 1_000 }).read(contractDetails, { account: '12345678' });
    const version = readCachePolicy(contractDetails.name).version;
    expect(await cache.get(sourceKey('bi_ods', 'contract-details', version, { account: '000012345678' }))).toBeDefined();
    // Another version of the query never reads this entry.
    expect(await cache.get(sourceKey('bi_ods', 'contract-details', version + 1, { account: '000012345678' }))).toBeUndefined();
  });
});
