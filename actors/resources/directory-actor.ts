// The directory actor: authenticates agents against LDAP without ever awaiting in its handler, and opens a
// circuit after consecutive outages (answering DIRECTORY_UNAVAILABLE at once, no network) until a probe of
// the service account's bind succeeds again. An outage is state (backing-off), never a crash.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import { backoffDelay, type BackoffPolicy } from '../../src/backoff.js';
import type { TimerHandle } from '../../src/clock.js';
import type { DirectoryAgent, DirectoryMessage } from '../../src/contracts/directory-messages.js';
import type { Reply } from '../../src/contracts/reply.js';
import { DirectoryUnavailableError } from '../../src/adapters/directory/directory-errors.js';
import { createLdapDirectory, type AgentDirectory, type LdapConfig } from '../../src/adapters/directory/ldap-directory.js';
import { errorCode, errorMessage } from '../../src/errors/app-error.js';
import type { Logger } from '../../src/logger.js';

export interface DirectoryActorOptions {
  /** Consecutive outages (refused, timed out, TLS, busy, service account refused) that open the circuit. @defaultValue 3 */
  readonly failureThreshold?: number;
  /** Delays between probes while the circuit is open. @defaultValue min 1 s, max 30 s, factor 2, jitter 0.2 */
  readonly probeBackoff?: Partial<BackoffPolicy>;
  /** Probes the service account once at start, so a broken directory shows before the first agent tries. @defaultValue true */
  readonly probeOnStart?: boolean;
  /** Builds the directory; by default the LDAP one from the config. */
  readonly directory?: (log: Logger) => AgentDirectory;
  /** Randomness for the probe jitter. @defaultValue Math.random */
  readonly random?: () => number;
}

type Outcome = { ok: true; agent: DirectoryAgent | null } | { ok: false; error: unknown };
// `epoch` tells this incarnation's results from those of the one it replaced (same name, same mailbox).
type Internal =
  | { type: 'attempted'; epoch: symbol; login: string; replyTo: Reply<DirectoryAgent> | Reply<DirectoryAgent | null>; outcome: Outcome }
  | { type: 'probe' }
  | { type: 'probed'; epoch: symbol; error: unknown };
type Msg = DirectoryMessage | Internal;

interface State {
  readonly epoch: symbol;
  readonly directory: AgentDirectory;
  /** Consecutive outages seen by attempts. */
  failures: number;
  open: boolean;
  probing: boolean;
  probeAttempt: number;
  nextProbe: TimerHandle | undefined;
  nextProbeAt: number;
  lastOutage: DirectoryUnavailableError | undefined;
}

const PROBE_BACKOFF: BackoffPolicy = { minMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };

const outageOf = (error: unknown): DirectoryUnavailableError | undefined =>
  error instanceof DirectoryUnavailableError && error.isOutage ? error : undefined;

const explain = (e: DirectoryUnavailableError): string => `${e.reason}: ${errorMessage(e.cause ?? e)}`;

export function directoryActor(config: LdapConfig, options: DirectoryActorOptions = {}): () => ActorBehaviour<State, Msg> {
  const threshold = Math.max(1, options.failureThreshold ?? 3);
  const backoff = { ...PROBE_BACKOFF, ...options.probeBackoff };
  const random = options.random ?? Math.random;

  const scheduleProbe = (s: State, ctx: ActorContext<Msg>): number => {
    const delay = backoffDelay(backoff, s.probeAttempt++, random());
    ctx.clearTimer(s.nextProbe);
    s.nextProbeAt = ctx.clock.now() + delay;
    s.nextProbe = ctx.setTimer(() => ctx.self.tell({ type: 'probe' }), delay);
    return delay;
  };

  const openCircuit = (s: State, ctx: ActorContext<Msg>, outage: DirectoryUnavailableError): void => {
    const first = !s.open;
    s.open = true;
    s.lastOutage = outage;
    const delay = scheduleProbe(s, ctx);
    const detail = `directory unavailable (${explain(outage)}); answering DIRECTORY_UNAVAILABLE, next probe in ${delay} ms`;
    if (first) ctx.log.warn({ reason: outage.reason, code: errorCode(outage.cause), failures: s.failures, probeInMs: delay }, 'directory circuit opened');
    ctx.setStatus('backing-off', detail, outage.cause ?? outage);
  };

  const closeCircuit = (s: State, ctx: ActorContext<Msg>): void => {
    ctx.clearTimer(s.nextProbe);
    s.nextProbe = undefined;
    s.open = false;
    s.failures = 0;
    s.probeAttempt = 0;
    s.lastOutage = undefined;
    ctx.log.info('directory answers again; circuit closed');
    ctx.setStatus('running');
  };

  const startProbe = (s: State, ctx: ActorContext<Msg>): void => {
    if (s.probing) return;
    s.probing = true;
    s.directory.probe(ctx.signal).then(
      () => ctx.self.tell({ type: 'probed', epoch: s.epoch, error: undefined }),
      (error: unknown) => ctx.self.tell({ type: 'probed', epoch: s.epoch, error: error ?? new Error('probe failed') }),
    );
  };

  return () => ({
    init(ctx) {
      const state: State = {
        epoch: Symbol('directory incarnation'),
        directory: options.directory?.(ctx.log) ?? createLdapDirectory(config, ctx.log),
        failures: 0,
        open: false,
        probing: false,
        probeAttempt: 0,
        nextProbe: undefined,
        nextProbeAt: 0,
        lastOutage: undefined,
      };
      if (options.probeOnStart ?? true) ctx.self.tell({ type: 'probe' });
      return state;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'authenticate':
        case 'lookup': {
          if (s.open) {
            const retryAfterMs = Math.max(1_000, s.nextProbeAt - ctx.clock.now());
            msg.replyTo.fail(new DirectoryUnavailableError('circuit-open', retryAfterMs, { cause: s.lastOutage }));
            return s;
          }
          const { login, replyTo } = msg;
          const attempt = msg.type === 'authenticate' ? s.directory.authenticate(login, msg.password, ctx.signal) : s.directory.lookup(login, ctx.signal);
          attempt.then(
            (agent) => ctx.self.tell({ type: 'attempted', epoch: s.epoch, login, replyTo, outcome: { ok: true, agent } }),
            (error: unknown) => ctx.self.tell({ type: 'attempted', epoch: s.epoch, login, replyTo, outcome: { ok: false, error } }),
          );
          return s;
        }

        case 'attempted': {
          const { outcome, login, replyTo } = msg;
          if (msg.epoch === s.epoch) {
            const outage = outcome.ok ? undefined : outageOf(outcome.error);
            if (outage) {
              s.failures++;
              ctx.log.warn({ login, reason: outage.reason, code: errorCode(outage.cause), failures: s.failures }, 'agent login failed: directory unavailable');
              if (s.failures >= threshold && !s.open) openCircuit(s, ctx, outage);
            } else {
              // The directory answered, whatever it said (an attempt started before the circuit opened may prove it).
              s.failures = 0;
              if (s.open) closeCircuit(s, ctx);
              if (outcome.ok && outcome.agent) ctx.log.info({ login, agency: outcome.agent.agency }, 'agent found in the directory');
            }
          }
          // An authenticate attempt never resolves with null (the directory rejects instead), so either reply type fits.
          if (outcome.ok) (replyTo as Reply<DirectoryAgent | null>).ok(outcome.agent);
          else replyTo.fail(outcome.error instanceof Error ? outcome.error : new DirectoryUnavailableError('unexpected', 1_000, { cause: outcome.error }));
          return s;
        }

        case 'probe':
          startProbe(s, ctx);
          return s;

        case 'probed': {
          if (msg.epoch !== s.epoch) return s;
          s.probing = false;
          if (msg.error === undefined) {
            if (s.open) closeCircuit(s, ctx);
            return s;
          }
          // Any failed probe (at start or while open) keeps or opens the circuit: the service account cannot bind.
          const outage = msg.error instanceof DirectoryUnavailableError ? msg.error : new DirectoryUnavailableError('unexpected', 1_000, { cause: msg.error });
          openCircuit(s, ctx, outage);
          return s;
        }
      }
    },
  });
}
