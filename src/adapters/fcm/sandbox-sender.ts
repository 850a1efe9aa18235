// The embedded mode's FCM: a sender with createFcmSender's shape that sends nothing, records the last messages and
// answers 'sent' for every token unless a test scripted another outcome for it.
import type { FcmMessage } from './fcm-message.js';
import type { FcmOutcome } from './fcm-outcome.js';
import type { FcmSender } from './fcm-sender.js';

/** FCM_MAX_BATCH of fcm-sender.ts (not imported at runtime: that module loads firebase-admin). */
const MAX_BATCH = 500;

export const DEFAULT_SANDBOX_RECORDED = 1_000;

export interface SandboxFcmSenderOptions {
  /** Messages kept in memory at most (the most recent). @defaultValue 1000 */
  readonly maxRecorded?: number;
  /** Outcome per token; undefined means 'sent'. Consulted after the per-token script. */
  readonly outcome?: (token: string) => FcmOutcome | undefined;
}

export interface SandboxFcmSender extends FcmSender {
  /** The most recent messages sent (at most maxRecorded), oldest first. */
  readonly recorded: readonly FcmMessage[];
  /** Messages sent since creation (also those no longer recorded). */
  readonly sentCount: number;
  /** Batches sent since creation. */
  readonly batchCount: number;
  /** Answers `outcome` for `token` from now on (`times`: for that many sends only, then 'sent' again). */
  script(token: string, outcome: FcmOutcome, times?: number): void;
  /** Forgets the recorded messages and the scripts (not the counters). */
  clear(): void;
}

export function createSandboxFcmSender(options: SandboxFcmSenderOptions = {}): SandboxFcmSender {
  const max = options.maxRecorded ?? DEFAULT_SANDBOX_RECORDED;
  if (!Number.isInteger(max) || max < 0) throw new RangeError('maxRecorded must be an integer >= 0');
  let recorded: FcmMessage[] = [];
  const scripts = new Map<string, { outcome: FcmOutcome; left: number }>();
  let sentCount = 0;
  let batchCount = 0;
  let closed = false;

  const outcomeFor = (token: string): FcmOutcome => {
    const scripted = scripts.get(token);
    if (scripted) {
      if (--scripted.left <= 0) scripts.delete(token);
      return scripted.outcome;
    }
    return options.outcome?.(token) ?? { kind: 'sent', messageId: `projects/sandbox/messages/${sentCount}` };
  };

  return {
    transport: 'http1',
    warm: () => Promise.resolve(),
    get recorded() {
      return recorded;
    },
    get sentCount() {
      return sentCount;
    },
    get batchCount() {
      return batchCount;
    },
    sendBatch(messages) {
      if (closed) return Promise.reject(new Error('sandbox FCM sender is closed'));
      if (messages.length > MAX_BATCH) return Promise.reject(new RangeError(`at most ${MAX_BATCH} messages per batch`));
      batchCount++;
      const outcomes = messages.map((m) => {
        sentCount++;
        if (max > 0) recorded.push(m);
        return outcomeFor(m.token);
      });
      if (recorded.length > max) recorded = recorded.slice(recorded.length - max);
      return Promise.resolve(outcomes);
    },
    script(token, outcome, times = Infinity) {
      scripts.set(token, { outcome, left: times });
    },
    clear() {
      recorded = [];
      scripts.clear();
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
