// Child specifications as data (OTP style): what to start, when to restart it, how long it may take to stop.
import type { ActorBehaviour, Message } from '../src/actor-behaviour.js';
import type { BackoffPolicy, IntensityPolicy } from './restart-policy.js';

/** permanent: always restarted; transient: restarted only after a crash; temporary: never restarted. */
export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one-for-one' | 'rest-for-one';

interface CommonSpec {
  /** Unique in the process: actors are addressed by it and supervisors restarted by it. */
  readonly name: string;
  /** @defaultValue 'permanent' */
  readonly restart?: RestartType;
  /** How long stopping may take (in-flight message, then cleanup). @defaultValue 5_000 */
  readonly shutdownTimeoutMs?: number;
}

export interface ActorSpec<S = unknown, M extends Message = Message> extends CommonSpec {
  readonly kind: 'actor';
  /** Called for every incarnation, so each restart starts from a fresh behaviour. */
  readonly behaviour: () => ActorBehaviour<S, M>;
  /**
   * Listed in /health/ready: `required` parts must run for the process to be ready; `optional` ones
   * (a cache that is bypassed while down) are shown with their state but never make it unready.
   */
  readonly readiness?: 'required' | 'optional';
}

export interface SupervisorSpec extends CommonSpec {
  readonly kind: 'supervisor';
  /** @defaultValue 'one-for-one' */
  readonly strategy?: Strategy;
  readonly intensity?: Partial<IntensityPolicy>;
  readonly backoff?: Partial<BackoffPolicy>;
  readonly children: readonly ChildSpec[];
}

export type ChildSpec = ActorSpec<any, any> | SupervisorSpec;

/** Declares an actor child with its types checked against the behaviour. */
export function actor<S, M extends Message>(spec: Omit<ActorSpec<S, M>, 'kind'>): ActorSpec<S, M> {
  return { kind: 'actor', ...spec };
}

export function supervisor(spec: Omit<SupervisorSpec, 'kind'>): SupervisorSpec {
  return { kind: 'supervisor', ...spec };
}
