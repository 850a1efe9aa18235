// The SMS actor: sends one text at once (no queue) through the sandbox or the utility's SOAP gateway,
// retries transport failures with backoff on the injected clock, and replies once. A failing gateway is
// state (backing-off), never a crash. Logs carry the phone masked and never the text (one-time codes).
import { randomUUID } from 'node:crypto';
import type { ActorBehaviour, ActorContext } from '../../src/actor-behaviour.js';
import { backoffDelay, type BackoffPolicy } from '../../src/backoff.js';
import type { Reply } from '../../src/contracts/reply.js';
import type { SmsMessage } from '../../src/contracts/sms-messages.js';
import { ValidationError, type ProblemField } from '../../src/errors/app-error.js';
import { SmsSandbox } from '../../src/adapters/sms/sandbox.js';
import { SmsDeliveryUnknownError, SmsRejectedError, SmsSandboxOnlyError, SmsUnavailableError } from '../../src/adapters/sms/sms-errors.js';
import { SoapSmsGateway, type GatewayOutcome } from '../../src/adapters/sms/soap-gateway.js';

export type SmsOptions =
  | {
      readonly transport: 'sandbox';
      /** Messages kept in the outbox. @defaultValue 1_000 */
      readonly capacity?: number;
    }
  | {
      readonly transport: 'gateway';
      readonly url: string;
      /** Bound on one gateway call. */
      readonly timeoutMs: number;
      /** Delays between attempts. @defaultValue { minMs: 200, maxMs: 2_000, factor: 2, jitter: 0.2 } */
      readonly retry?: Partial<BackoffPolicy>;
      /** Calls per message, the first included. @defaultValue 3 */
      readonly attempts?: number;
      /** Sends in progress beyond which a new one fails at once with SMS_UNAVAILABLE. @defaultValue 64 */
      readonly maxInFlight?: number;
      /** The WSDL's targetNamespace and soapAction (see src/adapters/sms/soap-gateway.ts). */
      readonly namespace?: string;
      readonly soapAction?: string;
    };

/** E.164: '+', a non-zero digit, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;
/** Three concatenated GSM-7 segments (3 × 153): more is not a one-time code or a notice. */
export const MAX_TEXT_LENGTH = 459;

const RETRY: BackoffPolicy = { minMs: 200, maxMs: 2_000, factor: 2, jitter: 0.2, resetAfterMs: 0 };
const ATTEMPTS = 3;
const MAX_IN_FLIGHT = 64;

/** The phone for logs: only its last three digits. */
export function maskPhone(phone: string): string {
  return `***${phone.slice(-3)}`;
}

/**
 * The longest a gateway send can take before the actor replies (every attempt timing out, every delay
 * at its jittered maximum): callers ask `send` with a deadline above this, or they time out first.
 */
export function worstCaseSendMs(options: SmsOptions): number {
  if (options.transport === 'sandbox') return 0;
  const retry = { ...RETRY, ...options.retry };
  const attempts = options.attempts ?? ATTEMPTS;
  let total = attempts * options.timeoutMs;
  for (let k = 0; k < attempts - 1; k++) total += backoffDelay(retry, k, 1);
  return total;
}

interface Job {
  readonly id: string;
  readonly to: string;
  readonly text: string;
  readonly replyTo: Reply<{ id: string }>;
  /** Attempts made so far. */
  attempts: number;
  /** An attempt is out and unanswered, or one ended without saying whether the gateway sent the text. */
  inFlight: boolean;
  maybeDelivered: boolean;
}

/**
 * The failure a job that was not confirmed ends with: SMS_DELIVERY_UNKNOWN when an attempt may have delivered
 * (the caller must count the SMS as sent), else SMS_UNAVAILABLE.
 */
function notSent(job: Job, message: string, retryAfterMs?: number): SmsDeliveryUnknownError | SmsUnavailableError {
  return job.maybeDelivered || job.inFlight ? new SmsDeliveryUnknownError(`${message}; the SMS may still arrive`) : new SmsUnavailableError(message, retryAfterMs);
}

// `epoch` tells this incarnation's results from those of the one it replaced (same name, same mailbox).
type Internal =
  | { type: 'attempted'; epoch: symbol; job: Job; outcome: GatewayOutcome }
  | { type: 'retry'; epoch: symbol; job: Job };
type Msg = SmsMessage | Internal;

interface State {
  readonly epoch: symbol;
  readonly gateway: SoapSmsGateway | undefined;
  /** Sends between their first attempt and their reply. */
  readonly jobs: Set<Job>;
  failing: boolean;
}

function invalidFields(to: unknown, text: unknown): ProblemField[] {
  const fields: ProblemField[] = [];
  if (typeof to !== 'string' || !E164.test(to)) fields.push({ path: 'to', message: 'must be a phone number in E.164 form (+221…)' });
  if (typeof text !== 'string' || text.trim() === '') fields.push({ path: 'text', message: 'must not be empty' });
  else if (text.length > MAX_TEXT_LENGTH) fields.push({ path: 'text', message: `must be at most ${MAX_TEXT_LENGTH} characters` });
  return fields;
}

export function smsActor(options: SmsOptions): () => ActorBehaviour<State, Msg> {
  // Created once, outside the incarnations: the outbox outlives a restart of the actor.
  const sandbox = options.transport === 'sandbox' ? new SmsSandbox(options.capacity) : undefined;
  const gatewayOptions = options.transport === 'gateway' ? options : undefined;
  const retry = { ...RETRY, ...gatewayOptions?.retry };
  const attempts = Math.max(1, gatewayOptions?.attempts ?? ATTEMPTS);
  const maxInFlight = gatewayOptions?.maxInFlight ?? MAX_IN_FLIGHT;

  const attempt = (s: State, job: Job, ctx: ActorContext<Msg>): void => {
    job.attempts++;
    job.inFlight = true;
    const report = (outcome: GatewayOutcome) => {
      if (!ctx.signal.aborted) ctx.self.tell({ type: 'attempted', epoch: s.epoch, job, outcome });
    };
    s.gateway!.sendOneSMS(job.to, job.text, ctx.signal).then(report, (e: unknown) => report({ kind: 'failed', reason: String(e) }));
  };

  const finish = (s: State, job: Job): void => {
    s.jobs.delete(job);
  };

  const gatewayUp = (s: State, ctx: ActorContext<Msg>): void => {
    if (!s.failing) return;
    s.failing = false;
    ctx.log.info('SMS gateway answers again');
    ctx.setStatus('running');
  };

  const gatewayFailing = (s: State, ctx: ActorContext<Msg>, reason: string): void => {
    s.failing = true;
    ctx.setStatus('backing-off', `SMS gateway failing (${reason})`, new SmsUnavailableError(`SMS gateway failing: ${reason}`));
  };

  const settle = (s: State, job: Job, outcome: GatewayOutcome, ctx: ActorContext<Msg>): void => {
    const log = { sms: job.id, to: maskPhone(job.to), attempt: job.attempts, outcome: outcome.kind, statusCode: outcome.statusCode };
    job.inFlight = false;
    if ((outcome.kind === 'temporary' || outcome.kind === 'failed') && outcome.maybeDelivered) job.maybeDelivered = true;
    switch (outcome.kind) {
      case 'sent':
        finish(s, job);
        gatewayUp(s, ctx);
        ctx.log.info(log, 'SMS sent');
        job.replyTo.ok({ id: job.id });
        return;
      case 'refused': {
        finish(s, job);
        gatewayUp(s, ctx);
        ctx.log.warn({ ...log, statusText: outcome.statusText }, 'SMS refused by the gateway');
        const refusal = `the SMS gateway refused the message: ${outcome.statusCode} ${outcome.statusText}`.trim();
        // An earlier attempt that timed out may have gone out all the same: then the outcome is still unknown.
        job.replyTo.fail(job.maybeDelivered ? notSent(job, refusal) : new SmsRejectedError(outcome.statusCode, refusal));
        return;
      }
      case 'temporary': {
        gatewayFailing(s, ctx, outcome.reason);
        // Nobody waits any more (deadline passed, caller gone): do not spend another SMS on it.
        if (job.attempts < attempts && !job.replyTo.settled) {
          const delay = Math.min(retry.maxMs, Math.max(backoffDelay(retry, job.attempts - 1, Math.random()), outcome.retryAfterMs ?? 0));
          ctx.log.warn({ ...log, reason: outcome.reason, retryInMs: delay }, 'SMS gateway failed; retrying');
          ctx.setTimer(() => ctx.self.tell({ type: 'retry', epoch: s.epoch, job }), delay);
          return;
        }
        finish(s, job);
        ctx.log.error({ ...log, reason: outcome.reason }, 'SMS not sent: gateway unavailable');
        job.replyTo.fail(notSent(job, `SMS gateway unavailable after ${job.attempts} attempt(s): ${outcome.reason}`, outcome.retryAfterMs));
        return;
      }
      case 'failed':
        finish(s, job);
        gatewayFailing(s, ctx, outcome.reason);
        ctx.log.error({ ...log, reason: outcome.reason }, 'SMS not sent: gateway failed (not retried)');
        job.replyTo.fail(notSent(job, `SMS gateway failed: ${outcome.reason}`));
        return;
    }
  };

  return () => ({
    init() {
      return {
        epoch: Symbol('sms incarnation'),
        gateway: gatewayOptions
          ? new SoapSmsGateway({
              url: gatewayOptions.url,
              timeoutMs: gatewayOptions.timeoutMs,
              ...(gatewayOptions.namespace !== undefined ? { namespace: gatewayOptions.namespace } : {}),
              ...(gatewayOptions.soapAction !== undefined ? { soapAction: gatewayOptions.soapAction } : {}),
            })
          : undefined,
        jobs: new Set<Job>(),
        failing: false,
      };
    },

    handle(s, msg, ctx) {
      switch (msg.type) {
        case 'send': {
          const fields = invalidFields(msg.to, msg.text);
          if (fields.length) {
            msg.replyTo.fail(new ValidationError(fields, 'The SMS is not valid.'));
            return s;
          }
          if (sandbox) {
            const sms = sandbox.record(msg.to, msg.text, ctx.clock.now());
            ctx.log.info({ sms: sms.id, to: maskPhone(msg.to), transport: 'sandbox' }, 'SMS recorded');
            msg.replyTo.ok({ id: sms.id });
            return s;
          }
          if (s.jobs.size >= maxInFlight) {
            ctx.log.warn({ to: maskPhone(msg.to), inFlight: s.jobs.size }, 'SMS refused: too many sends in flight');
            msg.replyTo.fail(new SmsUnavailableError(`too many SMS in flight (${s.jobs.size})`, 1_000));
            return s;
          }
          const job: Job = { id: randomUUID(), to: msg.to, text: msg.text, replyTo: msg.replyTo, attempts: 0, inFlight: false, maybeDelivered: false };
          s.jobs.add(job);
          attempt(s, job, ctx);
          return s;
        }
        case 'sandbox-outbox':
          if (!sandbox) msg.replyTo.fail(new SmsSandboxOnlyError());
          else msg.replyTo.ok(sandbox.list(msg.to));
          return s;
        case 'retry':
          if (msg.epoch !== s.epoch) return s;
          if (msg.job.replyTo.settled) {
            finish(s, msg.job);
            ctx.log.warn({ sms: msg.job.id, to: maskPhone(msg.job.to), attempt: msg.job.attempts }, 'SMS retry dropped: the caller no longer waits');
            return s;
          }
          attempt(s, msg.job, ctx);
          return s;
        case 'attempted':
          if (msg.epoch !== s.epoch) return s; // a result of the incarnation this one replaced
          settle(s, msg.job, msg.outcome, ctx);
          return s;
      }
    },

    cleanup(s) {
      // Runtime queries were failed already (ACTOR_STOPPED / ACTOR_RESTARTING); this answers any other reply channel.
      for (const job of s.jobs) if (!job.replyTo.settled) job.replyTo.fail(notSent(job, 'the SMS actor stopped before the gateway confirmed the message'));
      s.jobs.clear();
    },
  });
}
