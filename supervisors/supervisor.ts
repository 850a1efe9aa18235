// A supervisor: starts its children in order, restarts them by policy (one-for-one or rest-for-one,
// backoff between restarts, intensity limit), stops them in reverse order, and escalates when it gives up.
import type { TimerHandle } from '../src/clock.js';
import type { TreeNode } from '../src/contracts/supervision.js';
import { ActorRestartingError, ActorStoppedError } from '../src/errors/actor-errors.js';
import { AppError, errorMessage } from '../src/errors/app-error.js';
import type { Logger } from '../src/logger.js';
import { ActorCell, type AnyCell, type Exit } from './actor-cell.js';
import type { ChildSpec, RestartType, Strategy, SupervisorSpec } from './child-spec.js';
import { backoffDelay, DEFAULT_BACKOFF, DEFAULT_INTENSITY, RestartIntensity, type BackoffPolicy } from './restart-policy.js';
import type { CellHost } from './cell-host.js';
import type { SupervisionEvent } from './supervision-event.js';
import { StatsRecord } from './stats.js';

/** A supervisor exceeded its restart intensity and stopped all its children; its parent decides next. */
export class SupervisorGaveUpError extends AppError {
  readonly code = 'SUPERVISOR_GAVE_UP';
  constructor(readonly supervisor: string, readonly restarts: number, readonly withinMs: number, cause: unknown) {
    super(`supervisor ${supervisor} gave up after ${restarts} restarts within ${withinMs} ms: ${errorMessage(cause)}`, { cause });
  }
}

const DEFAULT_SHUTDOWN_MS = 5_000;

interface ChildRecord {
  readonly spec: ChildSpec;
  readonly stats: StatsRecord;
  current: AnyCell | Supervisor | undefined;
  /** Consecutive restarts, for the backoff delay; reset after a stable period. */
  attempt: number;
  startedAt: number;
  /** Bumped whenever a restart is scheduled, so an outdated restart never starts the child twice. */
  generation: number;
  /** Ended for good (a transient or temporary child that is not restarted). */
  removed: boolean;
}

/** The error a pending query gets; `started`: its handler had taken it. */
type ErrorFactory = (name: string, started: boolean) => Error;
type Tomb = 'restarting' | 'stopped';
const stoppedError: ErrorFactory = (n) => new ActorStoppedError(n);
const restartingError: ErrorFactory = (n, started) => new ActorRestartingError(n, started);

/** What a supervisor needs from the runtime (which implements it): a view, so supervisor.ts never imports runtime.ts. */
export interface SupervisorHost extends CellHost {
  readonly log: Logger;
  /** Source of randomness for backoff jitter. */
  random(): number;
  emit(e: SupervisionEvent): void;
  registerCell(cell: AnyCell): void;
  unregisterCell(cell: AnyCell, tomb: Tomb): void;
  registerSupervisor(sup: Supervisor): void;
  unregisterSupervisor(sup: Supervisor): void;
}

export class Supervisor {
  readonly name: string;
  readonly path: string;
  private readonly records: ChildRecord[];
  private readonly strategy: Strategy;
  private readonly intensity: RestartIntensity;
  private readonly backoff: BackoffPolicy;
  private readonly restartTimers = new Set<TimerHandle>();
  private readonly log: Logger;
  private phase: 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' = 'idle';
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly runtime: SupervisorHost,
    readonly spec: SupervisorSpec,
    parentPath: string | undefined,
    readonly stats: StatsRecord,
    private readonly onExit: (sup: Supervisor, exit: Exit) => void,
    readonly parent: Supervisor | undefined,
  ) {
    this.name = spec.name;
    this.path = parentPath ? `${parentPath}/${spec.name}` : spec.name;
    this.strategy = spec.strategy ?? 'one-for-one';
    this.intensity = new RestartIntensity({ ...DEFAULT_INTENSITY, ...spec.intensity });
    this.backoff = { ...DEFAULT_BACKOFF, ...spec.backoff };
    this.log = runtime.log.child({ supervisor: this.path });
    this.records = spec.children.map((c) => ({ spec: c, stats: new StatsRecord(), current: undefined, attempt: 0, startedAt: 0, generation: 0, removed: false }));
  }

  get isRunning(): boolean {
    return this.phase === 'running';
  }

  /** Starts every child in declaration order, each fully (init done) before the next. */
  async start(): Promise<void> {
    this.phase = 'running';
    this.stats.state = 'starting';
    this.runtime.registerSupervisor(this);
    for (const rec of this.records) {
      if (this.phase !== 'running') return;
      const generation = rec.generation;
      await this.startChild(rec);
      // Under rest-for-one a child that failed to start takes its later siblings into its restart group:
      // the restart starts them, in order, so this loop must not.
      if (this.strategy === 'rest-for-one' && rec.generation !== generation) break;
    }
    if (this.phase === 'running') this.stats.state = 'running';
  }

  private async startChild(rec: ChildRecord): Promise<void> {
    rec.startedAt = this.runtime.clock.now();
    rec.removed = false;
    const spec = rec.spec;
    if (spec.kind === 'actor') {
      const cell: AnyCell = new ActorCell(
        this.runtime,
        spec.name,
        spec.behaviour(),
        rec.stats,
        spec.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS,
        this.runtime.log.child({ actor: spec.name }),
        (c, exit) => this.childExited(rec, c, exit),
      );
      rec.current = cell;
      this.runtime.registerCell(cell);
      await cell.start();
      if (cell.isAlive) this.runtime.emit({ type: 'started', name: spec.name, kind: 'actor' });
    } else {
      const sup: Supervisor = new Supervisor(this.runtime, spec, this.path, rec.stats, (s, exit) => this.childExited(rec, s, exit), this);
      rec.current = sup;
      await sup.start();
      if (sup.isRunning) this.runtime.emit({ type: 'started', name: spec.name, kind: 'supervisor' });
    }
  }

  /** The decision on a child's exit, taken synchronously so pending queries are failed at once. */
  private childExited(rec: ChildRecord, who: AnyCell | Supervisor, exit: Exit): void {
    if (rec.current !== who || this.phase !== 'running') return;
    if (exit.kind === 'crash') this.runtime.emit({ type: 'crashed', name: rec.spec.name, error: exit.error });
    const restart: RestartType = rec.spec.restart ?? 'permanent';
    const shouldRestart = restart === 'permanent' || (restart === 'transient' && exit.kind === 'crash');
    if (!shouldRestart) {
      rec.removed = true;
      void this.stopRecord(rec, stoppedError, 'stopped');
      return;
    }
    const now = this.runtime.clock.now();
    const cause = exit.kind === 'crash' ? exit.error : new Error(`${rec.spec.name} exited`);
    if (!this.intensity.record(now)) {
      void this.giveUp(cause);
      return;
    }
    if (now - rec.startedAt >= this.backoff.resetAfterMs) rec.attempt = 0;
    const delay = backoffDelay(this.backoff, rec.attempt++, this.runtime.random());
    const idx = this.records.indexOf(rec);
    const group = this.strategy === 'rest-for-one' ? this.records.slice(idx).filter((r) => !r.removed) : [rec];
    this.log.warn({ child: rec.spec.name, delayMs: delay, group: group.map((r) => r.spec.name), err: cause }, 'restarting after crash');
    // Now, not once the (possibly slow) stops are done: nobody waits on a group that is going away.
    for (const r of group) this.quiesce(r);
    void this.restartGroup(group, delay);
  }

  /** Stops the group (later ones first), waits the backoff delay, then starts it again in order. */
  private async restartGroup(group: ChildRecord[], delayMs: number): Promise<void> {
    const tokens = group.map((r) => ++r.generation);
    for (const r of group) {
      r.stats.state = 'backing-off';
      r.stats.detail = `restarting in ${delayMs} ms`;
    }
    for (const r of [...group].reverse()) await this.stopRecord(r, restartingError, 'restarting');
    for (const r of group) {
      r.stats.state = 'backing-off';
      r.stats.detail = `restarting in ${delayMs} ms`;
    }
    if (this.phase !== 'running') return;
    const timer: TimerHandle = this.runtime.clock.setTimeout(() => {
      this.restartTimers.delete(timer);
      void (async () => {
        for (let i = 0; i < group.length; i++) {
          const r = group[i]!;
          if (this.phase !== 'running' || r.generation !== tokens[i]) return;
          r.stats.restarts++;
          r.stats.detail = undefined;
          await this.startChild(r);
        }
      })().catch((e: unknown) => this.log.error({ err: e }, 'restart failed'));
    }, delayMs);
    this.restartTimers.add(timer);
    this.runtime.emit({ type: 'restart-scheduled', name: group[0]!.spec.name, group: group.map((r) => r.spec.name), delayMs });
  }

  /** Takes a record's actors off the directory and fails their pending queries with ACTOR_RESTARTING. */
  private quiesce(rec: ChildRecord): void {
    const cur = rec.current;
    if (cur instanceof Supervisor) for (const r of cur.records) cur.quiesce(r);
    else if (cur) {
      this.runtime.unregisterCell(cur, 'restarting');
      cur.failPending(restartingError);
    }
  }

  private async stopRecord(rec: ChildRecord, err: ErrorFactory, tomb: Tomb): Promise<void> {
    const cur = rec.current;
    if (cur instanceof Supervisor) await cur.stop(err, tomb);
    else if (cur) {
      this.runtime.unregisterCell(cur, tomb);
      await cur.stop(err);
    }
    if (cur) this.runtime.emit({ type: 'stopped', name: rec.spec.name, kind: rec.spec.kind });
    rec.stats.state = tomb === 'restarting' ? 'backing-off' : 'stopped';
    if (tomb === 'stopped') rec.stats.detail = undefined;
  }

  private async giveUp(cause: unknown): Promise<void> {
    const { maxRestarts, withinMs } = { ...DEFAULT_INTENSITY, ...this.spec.intensity };
    const error = new SupervisorGaveUpError(this.path, maxRestarts, withinMs, cause);
    this.log.error({ err: cause }, error.message);
    this.phase = 'failed';
    this.stats.noteError(error, this.runtime.clock.now());
    await this.stopChildren(stoppedError, 'stopped');
    this.stats.state = 'failed';
    this.runtime.emit({ type: 'gave-up', name: this.name, error });
    this.onExit(this, { kind: 'crash', error });
  }

  private async stopChildren(err: ErrorFactory, tomb: Tomb): Promise<void> {
    for (const t of this.restartTimers) this.runtime.clock.clearTimeout(t);
    this.restartTimers.clear();
    for (const rec of [...this.records].reverse()) {
      rec.generation++;
      await this.stopRecord(rec, err, tomb);
    }
  }

  /** Stops every descendant in reverse start order; pending queries get `err` (ActorStopped by default). */
  stop(err: ErrorFactory = stoppedError, tomb: Tomb = 'stopped'): Promise<void> {
    if (this.stopping) return this.stopping;
    const wasFailed = this.phase === 'failed';
    this.phase = 'stopping';
    this.stopping = (async () => {
      await this.stopChildren(err, tomb);
      this.phase = 'stopped';
      this.runtime.unregisterSupervisor(this);
      this.stats.state = wasFailed ? 'failed' : tomb === 'restarting' ? 'backing-off' : 'stopped';
    })();
    return this.stopping;
  }

  /** On-call restart of one child supervisor: a full stop and a fresh start; it spends no restart budget. */
  async restartChild(name: string): Promise<void> {
    const rec = this.records.find((r) => r.spec.name === name);
    if (!rec || this.phase !== 'running') throw new Error(`no running child ${name} under ${this.path}`);
    rec.generation++;
    await this.stopRecord(rec, restartingError, 'restarting');
    if (this.phase !== 'running') return;
    rec.stats.restarts++;
    rec.attempt = 0;
    await this.startChild(rec);
  }

  tree(): TreeNode {
    return {
      path: this.path,
      name: this.name,
      kind: 'supervisor',
      strategy: this.strategy,
      stats: this.stats.snapshot(),
      children: this.records.map((r) => {
        if (r.current instanceof Supervisor) return r.current.tree();
        const path = `${this.path}/${r.spec.name}`;
        if (r.spec.kind === 'supervisor') return { path, name: r.spec.name, kind: 'supervisor', stats: r.stats.snapshot() };
        return { path, name: r.spec.name, kind: 'actor', ...(r.spec.readiness ? { readiness: r.spec.readiness } : {}), stats: r.stats.snapshot() };
      }),
    };
  }
}
