// Builds the requests service from the actors it asks (postgres, objects) and the configuration.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { RequestsConfig } from '../config/requests.js';
import type { Logger } from '../logger.js';
import { resources } from '../resources.js';
import type { RequestDeps } from './request-deps.js';
import { RequestsService } from './requests-service.js';

export function requestDeps(config: RequestsConfig, asker: Asker, clock: Clock, log?: Logger): RequestDeps {
  const res = resources(asker);
  return {
    db: () => res.db(),
    objects: () => res.objects(),
    clock,
    maxBytes: config.attachmentMaxBytes,
    urlTtlS: config.attachmentUrlTtlS,
    onCleanupError: (err, key) => log?.warn({ err, key }, 'a failed upload was not cleaned up; the janitor will delete it'),
  };
}

export function createRequestsService(config: RequestsConfig, asker: Asker, clock: Clock, log?: Logger): RequestsService {
  return new RequestsService(requestDeps(config, asker, clock, log));
}
