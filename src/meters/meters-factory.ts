// Builds the meters service from the actors it asks (postgres, cache) and the process's reader of the utility's data.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { CustomerDataReader } from '../customer-data/index.js';
import { resources } from '../resources.js';
import type { LinkCache } from './link-cache.js';
import { MeterLinkService } from './meter-links.js';
import { kickSicRegistrar } from './sic-registrar-messages.js';

/** `links`: the process's link cache; the links this service ends are forgotten and announced through it. */
export function createMeterLinkService(reader: CustomerDataReader, asker: Asker, clock: Clock, links?: LinkCache): MeterLinkService {
  const res = resources(asker);
  return new MeterLinkService({
    db: () => res.db(),
    reader,
    limit: (action, key) => res.limit(action, key),
    clock,
    activated: () => kickSicRegistrar(asker),
    ...(links ? { linksEnded: (ids: readonly string[]) => links.ended(ids) } : {}),
  });
}
