// Test kit for the supervision layer: a runtime on a manual clock and waiting on events, never on sleeps.
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import type { ActorBehaviour, Message } from '../../src/actor-behaviour.js';
import { Runtime } from '../../supervisors/runtime.js';
import type { SupervisionEvent } from '../../supervisors/supervision-event.js';
import type { Reply } from '../../src/contracts/reply.js';

export function testRuntime(options: { random?: () => number; onRootGiveUp?: (e: unknown) => void } = {}) {
  const clock = new ManualClock();
  const runtime = new Runtime({ clock, log: silentLogger(), random: options.random ?? (() => 0), ...(options.onRootGiveUp ? { onRootGiveUp: options.onRootGiveUp } : {}) });
  const events: SupervisionEvent[] = [];
  runtime.on((e) => events.push(e));
  return { clock, runtime, events };
}

/** Resolves with the first event matching `pred` from now on. */
export function nextEvent<T extends SupervisionEvent['type']>(
  runtime: Runtime,
  type: T,
  pred: (e: Extract<SupervisionEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<SupervisionEvent, { type: T }>> {
  return new Promise((resolve) => {
    const off = runtime.on((e) => {
      if (e.type === type && pred(e as Extract<SupervisionEvent, { type: T }>)) {
        off();
        resolve(e as Extract<SupervisionEvent, { type: T }>);
      }
    });
  });
}

export type CounterMsg =
  | { type: 'inc' }
  | { type: 'get'; replyTo: Reply<number> }
  | { type: 'boom'; replyTo?: Reply<number> }
  | { type: 'hold'; replyTo: Reply<number> }
  | { type: 'refuse'; replyTo: Reply<number> };

export interface CounterProbe {
  inits: number;
  cleanups: string[];
  held: Reply<number>[];
}

/** A counter whose every incarnation starts at zero; `boom` crashes it, `hold` keeps the reply pending. */
export function counter(name: string, probe: CounterProbe, extra: Partial<ActorBehaviour<number, CounterMsg>> = {}): () => ActorBehaviour<number, CounterMsg> {
  return () => ({
    init: () => {
      probe.inits++;
      return 0;
    },
    handle: (n, msg) => {
      switch (msg.type) {
        case 'inc':
          return n + 1;
        case 'get':
          msg.replyTo.ok(n);
          return n;
        case 'boom':
          throw new Error(`${name} boom`);
        case 'hold':
          probe.held.push(msg.replyTo);
          return n;
        case 'refuse':
          msg.replyTo.fail(new RefusedError());
          return n;
      }
    },
    cleanup: () => {
      probe.cleanups.push(name);
    },
    ...extra,
  });
}

export function probe(): CounterProbe {
  return { inits: 0, cleanups: [], held: [] };
}

import { AppError } from '../../src/errors/app-error.js';
export class RefusedError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor() {
    super('refused');
  }
}

export type { Message };
