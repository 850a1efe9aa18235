// The on-call actor: gathers one snapshot of the cluster for the dashboard's event stream (GET /admin/events).
// Optional in the tree: the dashboard being unable to read never takes the API out of the load balancer.
import type { ActorBehaviour } from '../../src/actor-behaviour.js';
import type { OnCallMessage } from '../../src/contracts/on-call-messages.js';
import type { OnCallService } from '../../src/operations/on-call-snapshot.js';
import { serviceActor } from './service-actor.js';

export function onCallActor(service: () => OnCallService): () => ActorBehaviour<OnCallService, OnCallMessage> {
  return serviceActor<OnCallService, OnCallMessage>({ service, operations: { snapshot: (s) => s.snapshot() } });
}
