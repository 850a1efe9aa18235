// The objects actor's place in the tree (api and all roles): object storage, optional in readiness.
import { objectsActor } from '../../actors/resources/objects-actor.js';
import { actor, type ActorSpec } from '../child-spec.js';
import type { TreeContext } from './tree-context.js';

export function objectsChild({ config }: TreeContext): ActorSpec {
  const o = config.objects;
  const tuning = { region: o.region, bucket: o.bucket, partSizeBytes: o.partSizeBytes, requestTimeoutMs: o.requestTimeoutMs, connectTimeoutMs: o.connectTimeoutMs };
  return actor({
    name: 'objects',
    // Storage down fails only the calls that need it (503 STORAGE_UNAVAILABLE): it never takes the API out of the load balancer.
    readiness: 'optional',
    // Room for the embedded s3rver to close its connections after the services using it stopped.
    shutdownTimeoutMs: 10_000,
    behaviour: objectsActor({
      storage:
        o.mode === 'external'
          ? {
              kind: 'external',
              settings: { ...tuning, endpoint: o.endpoint, publicEndpoint: o.publicEndpoint, accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
            }
          : { kind: 'embedded', directory: o.dataDir, tuning },
      createBucket: config.env !== 'production',
    }),
  });
}
