// What an actor cell needs from the runtime it runs in; the runtime implements it, so actor-cell.ts never imports runtime.ts.
import type { start as nactStart } from 'nact';
import type { Asker, Message } from '../src/actor-behaviour.js';
import type { Clock } from '../src/clock.js';

export interface CellHost extends Asker {
  readonly clock: Clock;
  readonly nactSystem: ReturnType<typeof nactStart>;
  /** A message left in the mailbox of an incarnation that crashed or stopped. */
  dropped(name: string, msg: Message): void;
  /** Resolves true when `p` settles within `ms` on the clock, false on timeout. */
  within(p: Promise<unknown>, ms: number): Promise<boolean>;
}
