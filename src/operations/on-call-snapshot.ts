// The on-call snapshot: what the dashboard's event stream pushes, gathered from the actors that own each part (the
// control plane's cluster view, the control actor's readiness, the broker-admin actor's queues, jobs and dead
// letters) and PostgreSQL's recorded FCM outcomes. The parts are asked side by side and each settles on its own.
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { ControlMessage } from '../contracts/control-messages.js';
import type { ClusterView, OnCallSnapshot, SnapshotPart } from '../contracts/on-call-messages.js';
import type { BrokerAdminMessage, DeadLetter } from '../contracts/operations-messages.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { isAppError } from '../errors/app-error.js';
import { ERROR_STATUS } from '../errors/error-codes.js';
import { fcmOutcomesPerMinute } from './fcm-outcomes.js';

/** How many recent jobs and dead letters the page lists. */
export const RECENT_JOBS = 15;
export const DEAD_LETTERS_SHOWN = 20;

export interface OnCallDeps {
  readonly asker: Asker;
  readonly clock: Clock;
  readonly db: () => Promise<PgHandle>;
  /** The alive nodes and their trees, from the control plane. */
  readonly cluster: () => Promise<ClusterView>;
  /** How long one part may take. */
  readonly partDeadlineMs: number;
  /**
   * The dead letters are browsed on a private connection opened for the purpose: read at most this often, and shared
   * by every open dashboard of the process (the dead-letter queue's depth, in `queues`, stays live meanwhile).
   */
  readonly deadLettersEveryMs: number;
}

export class OnCallService {
  private deadLetters: { readonly at: number; readonly read: Promise<SnapshotPart<readonly DeadLetter[]>> } | undefined;

  constructor(private readonly deps: OnCallDeps) {}

  async snapshot(): Promise<OnCallSnapshot> {
    const { asker, partDeadlineMs: deadline } = this.deps;
    const control = asker.ref<ControlMessage>('control');
    const brokerAdmin = asker.ref<BrokerAdminMessage>('broker-admin');
    const now = this.deps.clock.now();
    const [cluster, queues, fcm, health, jobs, deadLetters] = await Promise.all([
      part(this.deps.cluster()),
      part(asker.ask(brokerAdmin, 'queues', {}, deadline)),
      part(this.deps.db().then((db) => fcmOutcomesPerMinute(db, new Date(now)))),
      part(asker.ask(control, 'readiness', {}, deadline)),
      part(asker.ask(brokerAdmin, 'jobs', { query: { limit: RECENT_JOBS } }, deadline).then((page) => page.items)),
      this.recentDeadLetters(now),
    ]);
    return { at: new Date(now).toISOString(), cluster, queues, fcm, health, jobs, deadLetters };
  }

  /** The last read while it is recent enough (or still running), else a new one. */
  private recentDeadLetters(now: number): Promise<SnapshotPart<readonly DeadLetter[]>> {
    const last = this.deadLetters;
    if (last && now - last.at < this.deps.deadLettersEveryMs) return last.read;
    const { asker, partDeadlineMs } = this.deps;
    const read = part(asker.ask(asker.ref<BrokerAdminMessage>('broker-admin'), 'dead-letters', { limit: DEAD_LETTERS_SHOWN }, partDeadlineMs * 2));
    this.deadLetters = { at: now, read };
    return read;
  }
}

/** A part's value, or its error as a client may read it: a typed error's code and message, else a fixed text. */
async function part<T>(work: Promise<T>): Promise<SnapshotPart<T>> {
  try {
    return { ok: true, value: await work };
  } catch (e) {
    // As http/problem.ts answers: a server-side error's message can name hosts or a driver's words, so only a typed
    // error below 500 says more than its code.
    if (!isAppError(e)) return { ok: false, error: { code: 'INTERNAL', message: 'This part could not be read.' } };
    const message = ERROR_STATUS[e.code] < 500 ? e.message : 'Not available now.';
    return { ok: false, error: { code: e.code, message } };
  }
}
