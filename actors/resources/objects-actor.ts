// The objects resource actor: owns the S3 clients (and the embedded s3rver), probes storage, lends the ObjectStore while it answers.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/adapters/s3/embedded-s3.js';
import { StorageUnavailableError, type ObjectsMessage } from '../../src/adapters/s3/objects-messages.js';
import { S3ObjectStore, type S3Settings } from '../../src/adapters/s3/s3-object-store.js';
import { backoffDelay, type BackoffPolicy } from '../../src/backoff.js';
import type { TimerHandle } from '../../src/clock.js';
import { errorCode, errorMessage } from '../../src/errors/app-error.js';

type Tuning = Pick<S3Settings, 'region' | 'bucket' | 'partSizeBytes' | 'requestTimeoutMs' | 'connectTimeoutMs'>;

export interface ObjectsOptions {
  /** A configured endpoint, or s3rver started in this process on `directory` (undefined: a temporary folder). */
  readonly storage: { readonly kind: 'external'; readonly settings: S3Settings } | { readonly kind: 'embedded'; readonly directory: string | undefined; readonly tuning: Tuning };
  /** Create the bucket when missing (HeadBucket → CreateBucket): outside production only. */
  readonly createBucket: boolean;
  /** Probe interval while storage answers. @defaultValue 10_000 */
  readonly probeIntervalMs?: number;
  /** Delays between probes while it does not. @defaultValue min 250 ms, max 30 s, factor 2, jitter 0.2 */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Randomness for the jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

// `epoch` tells this incarnation's probe results and outage reports from those of the one it replaced.
type Internal = { type: 'probe' } | { type: 'probed'; epoch: symbol; error: unknown; created: boolean } | { type: 'outage'; epoch: symbol; error: unknown };
type Msg = ObjectsMessage | Internal;

interface State {
  readonly epoch: symbol;
  readonly store: S3ObjectStore;
  readonly embedded: EmbeddedS3 | undefined;
  up: boolean;
  probing: boolean;
  /** Consecutive failed probes: the backoff's attempt number. */
  failures: number;
  /** When the next probe runs while down (the clock's ms): Retry-After is the time left. */
  retryAt: number;
  nextProbe: TimerHandle | undefined;
  /** A store call reported an outage and its re-probe is pending: further reports add nothing. */
  outageTold: boolean;
}

const BACKOFF: BackoffPolicy = { minMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };
/** Retry-After never says "now": a client retrying at once would find the same outage. */
const MIN_RETRY_AFTER_MS = 1_000;

/** The error's message and its cause's (ECONNREFUSED, a timeout …): what on-call needs to see in the detail. */
function reason(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  // Node's AggregateError of a refused connect has an empty message and the code alone.
  const why = cause === undefined ? '' : errorMessage(cause) || (errorCode(cause) ?? '');
  return why ? `${errorMessage(error)} (${why})` : errorMessage(error);
}

/**
 * The handler never awaits: probes run from timers and report back. An outage is state (backing-off with the reason),
 * never a crash: storage is optional, and the restart budget is for bugs.
 */
export function objectsActor(options: ObjectsOptions): () => ActorBehaviour<State, Msg> {
  const backoff = { ...BACKOFF, ...options.backoff };
  const random = options.random ?? Math.random;
  const probeIntervalMs = options.probeIntervalMs ?? 10_000;

  const schedule = (s: State, ctx: ActorContext<Msg>, ms: number): void => {
    ctx.clearTimer(s.nextProbe);
    s.nextProbe = ctx.setTimer(() => ctx.self.tell({ type: 'probe' }), ms);
  };

  const probe = (s: State, ctx: ActorContext<Msg>): void => {
    if (s.probing) return;
    s.probing = true;
    const { epoch } = s;
    s.store.probe(options.createBucket).then(
      (outcome) => ctx.self.tell({ type: 'probed', epoch, error: undefined, created: outcome === 'created' }),
      (error: unknown) => ctx.self.tell({ type: 'probed', epoch, error, created: false }),
    );
  };

  const down = (s: State, ctx: ActorContext<Msg>, error: unknown): void => {
    const delay = backoffDelay(backoff, s.failures++, random());
    s.retryAt = ctx.clock.now() + delay;
    // Refused (bad credentials, a missing bucket in production) is a misconfiguration, not an outage, but storage is
    // optional: the API keeps serving everything else, and the on-call view and the log say why.
    const refused = errorCode(error) === 'STORAGE_REQUEST_FAILED';
    if (s.up || s.failures === 1) ctx.log[refused ? 'error' : 'warn']({ err: error, retryInMs: delay }, refused ? 'object storage refuses our requests' : 'object storage unreachable');
    s.up = false;
    ctx.setStatus('backing-off', `${refused ? 'storage refuses' : 'storage unreachable'}: ${reason(error)}; next probe in ${delay} ms`, error);
    schedule(s, ctx, delay);
  };

  return () => ({
    async init(ctx) {
      const epoch = Symbol('objects incarnation');
      const storage = options.storage;
      const embedded = storage.kind === 'embedded' ? await startEmbeddedS3({ directory: storage.directory }) : undefined;
      if (embedded) ctx.log.info({ endpoint: embedded.endpoint, directory: embedded.directory }, 'embedded object storage (s3rver) started');
      const settings: S3Settings =
        storage.kind === 'external'
          ? storage.settings
          : {
              ...storage.tuning,
              endpoint: embedded!.endpoint,
              publicEndpoint: embedded!.endpoint,
              accessKeyId: embedded!.accessKeyId,
              secretAccessKey: embedded!.secretAccessKey,
            };
      const state: State = {
        epoch,
        embedded,
        store: new S3ObjectStore(settings, (error) => ctx.self.tell({ type: 'outage', epoch, error })),
        up: false,
        probing: false,
        failures: 0,
        retryAt: ctx.clock.now(),
        nextProbe: undefined,
        outageTold: false,
      };
      ctx.setStatus('backing-off', 'probing object storage');
      probe(state, ctx);
      return state;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'lend':
          if (s.up) msg.replyTo.ok(s.store);
          else msg.replyTo.fail(new StorageUnavailableError('Object storage is unavailable.', Math.max(MIN_RETRY_AFTER_MS, s.retryAt - ctx.clock.now())));
          return s;
        case 'probe':
          probe(s, ctx);
          return s;
        case 'outage':
          // A call failed between probes: probe now, so the state follows storage rather than the probe interval.
          if (msg.epoch !== s.epoch || s.outageTold || !s.up) return s;
          s.outageTold = true;
          ctx.log.warn({ err: msg.error }, 'a storage call met an outage; probing now');
          probe(s, ctx);
          return s;
        case 'probed':
          if (msg.epoch !== s.epoch) return s;
          s.probing = false;
          s.outageTold = false;
          if (msg.error !== undefined) {
            down(s, ctx, msg.error);
            return s;
          }
          if (msg.created) ctx.log.info({ bucket: s.store.bucket }, 'bucket created');
          if (!s.up) ctx.log.info('object storage answers');
          s.up = true;
          s.failures = 0;
          ctx.setStatus('running');
          schedule(s, ctx, probeIntervalMs);
          return s;
      }
    },

    async cleanup(s) {
      s.store.destroy();
      await s.embedded?.close();
    },
  });
}
