// The actor runtime: nact used only for mailboxes (every actor spawned flat under one nact system),
// a directory of named actors, typed queries with deadlines, dead letters, and the registry of the tree.
import { start as nactStart, stop as nactStop } from 'nact';
import type { Clock } from '../src/clock.js';
import type { PayloadOf, Reply, ReplyOf } from '../src/contracts/reply.js';
import type { ReadinessPart, ReadinessReport, SupervisionRegistry, TreeNode } from '../src/contracts/supervision.js';
import { ActorNotFoundError, ActorRestartingError, ActorStoppedError, SupervisorNotFoundError } from '../src/errors/actor-errors.js';
import { AppError } from '../src/errors/app-error.js';
import type { Logger } from '../src/logger.js';
import type { ActorRef, Message } from '../src/actor-behaviour.js';
import type { AnyCell, Exit } from './actor-cell.js';
import type { SupervisorSpec } from './child-spec.js';
import { PendingReply, replyOf } from './pending-reply.js';
import { StatsRecord } from './stats.js';
import { Supervisor, type SupervisorHost } from './supervisor.js';
import type { SupervisionEvent } from './supervision-event.js';

export { SupervisorNotFoundError } from '../src/errors/actor-errors.js';

export interface RuntimeOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Source of randomness for backoff jitter; tests pin it. @defaultValue Math.random */
  readonly random?: () => number;
  /** Called when the root supervisor gives up: the process should exit non-zero. */
  readonly onRootGiveUp?: (error: unknown) => void;
  /** Name of the nact system. @defaultValue 'samaconso' */
  readonly name?: string;
}

let systemCounter = 0;


export class Runtime implements SupervisorHost, SupervisionRegistry {
  readonly clock: Clock;
  readonly log: Logger;
  readonly random: () => number;
  readonly nactSystem;
  private readonly cells = new Map<string, AnyCell>();
  private readonly tombs = new Map<string, 'restarting' | 'stopped'>();
  private readonly supervisors = new Map<string, Supervisor>();
  private readonly refs = new Map<string, ActorRef<Message>>();
  private readonly onRootGiveUp: (error: unknown) => void;
  private root: Supervisor | undefined;
  private readonly listeners = new Set<(e: SupervisionEvent) => void>();
  /** Messages that reached no actor, by reason. */
  readonly deadLetters = { notFound: 0, restarting: 0, stopped: 0 };

  constructor(options: RuntimeOptions) {
    this.clock = options.clock;
    this.log = options.log;
    this.random = options.random ?? Math.random;
    this.onRootGiveUp = options.onRootGiveUp ?? (() => {});
    // start({ name }) — start('name') type-checks but ignores the name (nact pitfall 7).
    this.nactSystem = nactStart({ name: `${options.name ?? 'samaconso'}-${++systemCounter}` } as unknown as string);
  }

  /** Starts the root supervisor and its whole tree. */
  async start(spec: SupervisorSpec): Promise<Supervisor> {
    if (this.root) throw new Error('runtime already started');
    const root = new Supervisor(this.runtimeSelf(), spec, undefined, new StatsRecord(), (_s, exit: Exit) => {
      this.log.fatal({ err: exit.kind === 'crash' ? exit.error : undefined }, 'root supervisor gave up');
      this.onRootGiveUp(exit.kind === 'crash' ? exit.error : new Error('root exited'));
    }, undefined);
    this.root = root;
    await root.start();
    return root;
  }

  private stoppingTree = false;

  /** True once stop() was called: the process is shutting down (a part restarting is not). */
  get stopping(): boolean {
    return this.stoppingTree;
  }

  private runtimeSelf(): Runtime {
    return this;
  }

  /** Stops the whole tree in reverse start order, then the nact system. */
  async stop(): Promise<void> {
    this.stoppingTree = true;
    if (this.root) await this.root.stop();
    nactStop(this.nactSystem);
  }

  /** Subscribes to supervision events; returns the unsubscribe function. */
  on(listener: (e: SupervisionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: SupervisionEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'supervision event listener threw');
      }
    }
  }

  ref<M extends Message>(name: string): ActorRef<M> {
    let r = this.refs.get(name);
    if (!r) {
      r = { name, tell: (msg: Message) => this.tell(name, msg) };
      this.refs.set(name, r);
    }
    return r as ActorRef<M>;
  }

  tell(name: string, msg: Message): void {
    const cell = this.cells.get(name);
    if (cell) cell.enqueue(msg);
    else this.undeliverable(name, msg);
  }

  /** A message left in the mailbox of an incarnation that crashed or stopped: counted with the dead letters. */
  dropped(name: string, msg: Message): void {
    const reason = this.tombs.get(name) ?? 'stopped';
    this.deadLetters[reason === 'restarting' ? 'restarting' : 'stopped']++;
    this.log.debug({ actor: name, messageType: msg.type }, 'message dropped by a stopped incarnation');
  }

  /** A message nobody can take: counted, logged, and its reply failed at once with the reason. */
  private undeliverable(name: string, msg: Message): void {
    const tomb = this.tombs.get(name);
    const reason = tomb ?? 'notFound';
    this.deadLetters[reason]++;
    const error =
      tomb === 'restarting' ? new ActorRestartingError(name) : tomb === 'stopped' ? new ActorStoppedError(name) : new ActorNotFoundError(name);
    this.log.warn({ actor: name, messageType: msg.type, reason }, 'dead letter');
    const reply = replyOf(msg);
    if (reply && !reply.settled) reply.fail(error);
  }

  query<R, M extends Message>(to: ActorRef<M> | string, build: (replyTo: Reply<R>) => M, deadlineMs: number): Promise<R> {
    const name = typeof to === 'string' ? to : to.name;
    const reply = new PendingReply<R>(this.clock, name, '(unknown)', deadlineMs);
    const msg = build(reply);
    reply.messageType = msg.type;
    this.tell(name, msg);
    return reply.promise;
  }

  ask<M extends Message, T extends M['type']>(
    to: ActorRef<M> | string,
    type: T,
    payload: PayloadOf<Extract<M, { type: T }>>,
    deadlineMs: number,
  ): Promise<ReplyOf<Extract<M, { type: T }>>> {
    const name = typeof to === 'string' ? to : to.name;
    const reply = new PendingReply<ReplyOf<Extract<M, { type: T }>>>(this.clock, name, type, deadlineMs);
    this.tell(name, { ...payload, type, replyTo: reply } as unknown as Message);
    return reply.promise;
  }

  /** Resolves true when `p` settles within `ms` on the injected clock, false on timeout. */
  within(p: Promise<unknown>, ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const t = this.clock.setTimeout(() => resolve(false), ms);
      p.then(
        () => {
          this.clock.clearTimeout(t);
          resolve(true);
        },
        (e: unknown) => {
          this.clock.clearTimeout(t);
          reject(e);
        },
      );
    });
  }

  registerCell(cell: AnyCell): void {
    const existing = this.cells.get(cell.name);
    if (existing && existing !== cell && existing.isAlive) throw new Error(`actor name ${cell.name} is already in use`);
    this.cells.set(cell.name, cell);
    this.tombs.delete(cell.name);
  }

  unregisterCell(cell: AnyCell, tomb: 'restarting' | 'stopped'): void {
    if (this.cells.get(cell.name) === cell) this.cells.delete(cell.name);
    this.tombs.set(cell.name, tomb);
  }

  registerSupervisor(sup: Supervisor): void {
    this.supervisors.set(sup.name, sup);
  }

  unregisterSupervisor(sup: Supervisor): void {
    if (this.supervisors.get(sup.name) === sup) this.supervisors.delete(sup.name);
  }

  /** The whole tree with each node's stats. */
  tree(): TreeNode {
    if (!this.root) throw new Error('runtime not started');
    return this.root.tree();
  }

  /** Readiness of the parts that declare it: each is ready when running (or paused on purpose). */
  readiness(role: string): ReadinessReport {
    const parts: ReadinessPart[] = [];
    const walk = (n: TreeNode): void => {
      if (n.kind === 'actor' && n.readiness) {
        const ready = n.stats.state === 'running' || n.stats.state === 'paused';
        parts.push({ name: n.name, state: n.stats.state, ready, required: n.readiness === 'required', ...(n.stats.detail ? { detail: n.stats.detail } : {}) });
      }
      n.children?.forEach(walk);
    };
    walk(this.tree());
    return { ready: parts.every((p) => p.ready || !p.required), role, parts };
  }

  /** Restarts one named supervisor and everything under it (for the root: each of its child supervisors). */
  async restartSupervisor(name: string): Promise<void> {
    const sup = this.supervisors.get(name);
    if (!sup || !sup.isRunning) throw new SupervisorNotFoundError(name);
    this.log.warn({ supervisor: sup.path }, 'restart requested');
    if (sup.parent) await sup.parent.restartChild(sup.name);
    else for (const c of sup.spec.children) if (c.kind === 'supervisor') await sup.restartChild(c.name);
  }
}
