// Builds the meter reads from the actors they ask (postgres for links) and the process's reader of the utility's data.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { CustomerDataReader } from '../customer-data/index.js';
import { resources } from '../resources.js';
import type { LinkCache } from './link-cache.js';
import { MeterReads } from './meter-reads.js';

/** `links`: the process's one link cache (built in src/node.ts), shared with whoever ends links here. */
export function createMeterReads(reader: CustomerDataReader, asker: Asker, clock: Clock, links?: LinkCache): MeterReads {
  const res = resources(asker);
  return new MeterReads({ db: () => res.db(), reader, clock, ...(links ? { links } : {}) });
}
