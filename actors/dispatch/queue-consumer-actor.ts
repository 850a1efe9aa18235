// A queue consumer: one actor per priority queue, owning that queue's subscription (manual acks, a small
// prefetch), its state and its counters. Deliveries run the handler outside this actor's mailbox (the Broker
// calls it); what they change is counters only. RabbitMQ away is state (backing-off), never a crash: the
// Broker re-subscribes after each reconnect. Only a closed Broker (the broker actor restarted) needs a new
// handle: the actor asks the broker actor again and subscribes anew.
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import type { Broker, BrokerEvent, ConsumerEnd, ConsumerHandle, Delivery, Handler, Outcome } from '../../src/adapters/broker/broker.js';
import type { BrokerQueue } from '../../src/adapters/broker/topology.js';
import type { BrokerMessage } from '../../src/adapters/broker/broker-messages.js';
import type { ConsumerMessage, ConsumerStats } from '../../src/dispatch/consumer-messages.js';
import type { Reply } from '../../src/contracts/reply.js';
import { errorMessage, toError } from '../../src/errors/app-error.js';

export interface QueueConsumerOptions {
  readonly queue: BrokerQueue;
  /** Unacked deliveries held at most (handlers running at once). */
  readonly prefetch: number;
  /** Decides each delivery; a throw (or an unknown outcome) puts the message back (nack-requeue). */
  readonly handle: (delivery: Delivery) => Promise<Outcome>;
  /** The broker resource actor. @defaultValue 'broker' */
  readonly brokerActor?: string;
  /** Deadline of the ask for the Broker. @defaultValue 5_000 */
  readonly askTimeoutMs?: number;
  /** Wait before asking again when the broker actor did not hand out a usable Broker. @defaultValue 1_000 */
  readonly retryMs?: number;
  /**
   * The stored pause of this queue (table queue_pauses): its reason, or undefined when it is not paused. Read before
   * each subscription (a paused queue is subscribed paused: no basic.consume) and on `apply-pauses`. A read that
   * fails delays the subscription (retried like a missing broker). Without it only `pause`/`resume` messages count.
   */
  readonly pauseOf?: (queue: BrokerQueue) => Promise<string | undefined>;
}

type Internal =
  | { type: 'attach'; gen: number }
  | { type: 'attached'; gen: number; broker: Broker; handle: ConsumerHandle; stored: StoredPause | undefined }
  | { type: 'pause-read'; epoch: number; reason: string | undefined; replyTo: Reply<void> | undefined }
  | { type: 'attach-failed'; gen: number; error: unknown }
  | { type: 'broker-event'; gen: number; event: BrokerEvent }
  | { type: 'ended'; gen: number; end: ConsumerEnd };
type Msg = ConsumerMessage | Internal;

/** The stored pause as read before a subscription, with the pause epoch it was read in. */
interface StoredPause {
  readonly epoch: number;
  readonly reason: string | undefined;
}

interface Counters {
  deliveries: number;
  acks: number;
  nacks: number;
  rejects: number;
  failures: number;
  inFlight: number;
  maxInFlight: number;
  resubscribes: number;
}

interface State {
  /** Bumped at every (re)subscription: messages of an older one are ignored. */
  gen: number;
  broker: Broker | undefined;
  handle: ConsumerHandle | undefined;
  off: (() => void) | undefined;
  pausedReason: string | undefined;
  /** Bumped by every pause, resume and stored-pause read: a read overtaken by a newer one is not applied. */
  pauseEpoch: number;
  /** The last `down` reason while the broker is away. */
  downReason: string | undefined;
  readonly counters: Counters;
}

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['ack', 'nack-requeue', 'reject']);

export function queueConsumerActor(options: QueueConsumerOptions): () => ActorBehaviour<State, Msg> {
  const { queue, prefetch } = options;
  const brokerName = options.brokerActor ?? 'broker';
  const askTimeoutMs = options.askTimeoutMs ?? 5_000;
  const retryMs = options.retryMs ?? 1_000;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch of ${queue} must be a whole number >= 1 (got ${prefetch})`);

  /** The handler given to the Broker: runs outside the mailbox; never throws. */
  function handler(c: Counters, ctx: ActorContext<Msg>): Handler {
    return async (delivery) => {
      c.deliveries++;
      c.inFlight++;
      if (c.inFlight > c.maxInFlight) c.maxInFlight = c.inFlight;
      let outcome: Outcome;
      try {
        const decided: unknown = await options.handle(delivery);
        if (typeof decided === 'string' && OUTCOMES.has(decided)) outcome = decided as Outcome;
        else {
          ctx.log.warn({ queue, messageId: delivery.messageId, outcome: decided }, 'consumer handler returned no known outcome; message returned to its queue');
          outcome = 'nack-requeue';
        }
      } catch (error) {
        c.failures++;
        ctx.log.warn({ err: error, queue, messageId: delivery.messageId }, `consumer handler failed (${errorMessage(error)}); message returned to its queue`);
        outcome = 'nack-requeue';
      } finally {
        c.inFlight--;
      }
      if (outcome === 'ack') c.acks++;
      else if (outcome === 'reject') c.rejects++;
      else c.nacks++;
      return outcome;
    };
  }

  /** Asks the broker actor for the Broker and subscribes, in the background; the result comes back as a message. */
  function attach(s: State, ctx: ActorContext<Msg>): void {
    const gen = ++s.gen;
    const run = handler(s.counters, ctx);
    const epoch = s.pauseEpoch;
    void (async () => {
      const stored: StoredPause | undefined = options.pauseOf ? { epoch, reason: await options.pauseOf(queue) } : undefined;
      const broker = await ctx.ask(ctx.ref<BrokerMessage>(brokerName), 'lend', {}, askTimeoutMs);
      // A queue paused before its consumer (re)starts is subscribed paused: nothing is delivered before the pause.
      const paused = (stored && stored.epoch === s.pauseEpoch ? stored.reason : s.pausedReason) !== undefined;
      const handle = await broker.consume(queue, { prefetch, paused }, run);
      if (ctx.signal.aborted) {
        // Stopped meanwhile: the 'attached' message would be dropped, so the subscription is ended here.
        await handle.cancel();
        return;
      }
      ctx.self.tell({ type: 'attached', gen, broker, handle, stored });
    })().catch((error: unknown) => {
      if (!ctx.signal.aborted) ctx.self.tell({ type: 'attach-failed', gen, error });
    });
  }

  function report(s: State, ctx: ActorContext<Msg>): void {
    if (s.pausedReason !== undefined) ctx.setStatus('paused', s.pausedReason);
    else if (!s.handle || !s.broker) ctx.setStatus('backing-off', `subscribing to ${queue}`);
    else if (!s.broker.isUp) ctx.setStatus('backing-off', `RabbitMQ unreachable${s.downReason ? ` (${s.downReason})` : ''}; ${queue} is consumed again once it is back`);
    else ctx.setStatus('running');
  }

  function detach(s: State): void {
    s.off?.();
    s.off = undefined;
    s.handle = undefined;
    s.broker = undefined;
  }

  function stats(s: State): ConsumerStats {
    return { queue, prefetch, attached: s.handle !== undefined, pausedReason: s.pausedReason, ...s.counters };
  }

  function pause(s: State, ctx: ActorContext<Msg>, reason: string, replyTo: Reply<void> | undefined): void {
    const was = s.pausedReason;
    s.pausedReason = reason;
    if (was === undefined) ctx.log.info({ queue, reason }, `pausing ${queue}`);
    if (s.handle) settle(s.handle.pause(), replyTo);
    else replyTo?.ok(undefined);
    report(s, ctx);
  }

  function resume(s: State, ctx: ActorContext<Msg>, reason: string | undefined, replyTo: Reply<void> | undefined): void {
    if (s.pausedReason === undefined) {
      replyTo?.ok(undefined);
      return;
    }
    s.pausedReason = undefined;
    ctx.log.info({ queue, reason }, `resuming ${queue}`);
    if (s.handle) settle(s.handle.resume(), replyTo);
    else replyTo?.ok(undefined);
    report(s, ctx);
  }

  function settle(p: Promise<void>, reply: { ok(v: void): void; fail(e: Error): void } | undefined): void {
    p.then(
      () => reply?.ok(undefined),
      (error: unknown) => reply?.fail(toError(error)),
    );
  }

  return () => ({
    init(ctx) {
      const s: State = {
        gen: 0,
        broker: undefined,
        handle: undefined,
        off: undefined,
        pausedReason: undefined,
        pauseEpoch: 0,
        downReason: undefined,
        counters: { deliveries: 0, acks: 0, nacks: 0, rejects: 0, failures: 0, inFlight: 0, maxInFlight: 0, resubscribes: 0 },
      };
      ctx.setStatus('backing-off', `subscribing to ${queue}`);
      attach(s, ctx);
      return s;
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'attach':
          if (msg.gen === s.gen && !s.handle) attach(s, ctx);
          return s;
        case 'attached': {
          if (msg.gen !== s.gen) {
            void msg.handle.cancel();
            return s;
          }
          const { broker, handle, gen, stored } = msg;
          if (stored && stored.epoch === s.pauseEpoch) s.pausedReason = stored.reason;
          s.broker = broker;
          s.handle = handle;
          s.downReason = undefined;
          s.off = broker.on((event) => ctx.self.tell({ type: 'broker-event', gen, event }));
          // Cleanup cancels the subscription after the actor stopped: that end is expected, and nobody is left to tell.
          void handle.ended.then((end) => {
            if (!ctx.signal.aborted) ctx.self.tell({ type: 'ended', gen, end });
          });
          if (s.pausedReason !== undefined && !handle.paused) settle(handle.pause(), undefined);
          else if (s.pausedReason === undefined && handle.paused) settle(handle.resume(), undefined);
          if (s.pausedReason !== undefined) ctx.log.info({ queue, reason: s.pausedReason }, `${queue} is paused: subscribed, not consuming`);
          ctx.log.info({ queue, prefetch }, `consuming ${queue}`);
          report(s, ctx);
          return s;
        }
        case 'attach-failed': {
          if (msg.gen !== s.gen) return s;
          const gen = s.gen;
          ctx.setStatus('backing-off', `cannot subscribe to ${queue} (${errorMessage(msg.error)}); retrying in ${retryMs} ms`, msg.error);
          ctx.setTimer(() => ctx.self.tell({ type: 'attach', gen }), retryMs);
          return s;
        }
        case 'broker-event':
          if (msg.gen !== s.gen) return s;
          s.downReason = msg.event.type === 'down' ? msg.event.reason : undefined;
          report(s, ctx);
          return s;
        case 'ended': {
          if (msg.gen !== s.gen) return s;
          // Only cleanup cancels; anything else (the broker actor restarted and closed its Broker) re-subscribes.
          ctx.log.warn({ queue, reason: msg.end.reason }, `subscription to ${queue} ended; subscribing again`);
          detach(s);
          s.counters.resubscribes++;
          report(s, ctx);
          attach(s, ctx);
          return s;
        }
        case 'pause':
          s.pauseEpoch++;
          pause(s, ctx, msg.reason, msg.replyTo);
          return s;
        case 'resume':
          s.pauseEpoch++;
          resume(s, ctx, msg.reason, msg.replyTo);
          return s;
        case 'apply-pauses': {
          if (!options.pauseOf) {
            msg.replyTo?.ok(undefined);
            return s;
          }
          const epoch = ++s.pauseEpoch;
          const replyTo = msg.replyTo;
          options.pauseOf(queue).then(
            (reason) => ctx.self.tell({ type: 'pause-read', epoch, reason, replyTo }),
            (error: unknown) => replyTo?.fail(toError(error)),
          );
          return s;
        }
        case 'pause-read':
          // A newer pause, resume or read came meanwhile: that one decides.
          if (msg.epoch !== s.pauseEpoch) msg.replyTo?.ok(undefined);
          else if (msg.reason !== undefined) pause(s, ctx, msg.reason, msg.replyTo);
          else resume(s, ctx, 'resumed in queue_pauses', msg.replyTo);
          return s;
        case 'stats':
          msg.replyTo.ok(stats(s));
          return s;
      }
    },

    async cleanup(s, ctx) {
      const handle = s.handle;
      detach(s);
      s.gen++;
      if (!handle) return;
      // No new deliveries; resolves once those in flight settled (acked). Bounded by the spec's shutdownTimeoutMs.
      try {
        await handle.cancel();
      } catch (error) {
        ctx.log.warn({ err: error, queue }, `cancelling the subscription to ${queue} failed: ${errorMessage(error)}`);
      }
    },
  });
}
