// Builds the reference service from the actors it asks (postgres, cache) and the process's clock.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import { resources } from '../resources.js';
import { ReferenceService } from './reference-service.js';

export function createReferenceService(asker: Asker, clock: Clock): ReferenceService {
  return new ReferenceService({ res: resources(asker), clock });
}
