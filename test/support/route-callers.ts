// Who calls a route in a route property test: a signed-in user of some role (by index in that role's pool), no token,
// or a garbage token; fast-check draws mostly callers the route admits.
import fc from 'fast-check';
import type { UserRole } from '../../src/contracts/caller.js';
import type { TestUser } from './meter-links.js';

export type Who = { readonly role: UserRole; readonly i: number } | { readonly role: 'none' } | { readonly role: 'garbage'; readonly token: string };

export const ROLES: readonly UserRole[] = ['customer', 'agent', 'admin'];

/** Callers drawn `weights.allowed` to `weights.others` (to one each for no token and a garbage one) for or against `allowed`. */
export function whoCalls(allowed: readonly UserRole[], poolSize: number, weights = { allowed: 10, others: 1 }): fc.Arbitrary<Who> {
  const others = ROLES.filter((r) => !allowed.includes(r));
  return fc.oneof(
    { weight: weights.allowed, arbitrary: fc.record({ role: fc.constantFrom(...allowed), i: fc.nat(poolSize - 1) }) },
    ...(others.length ? [{ weight: weights.others, arbitrary: fc.record({ role: fc.constantFrom(...others), i: fc.nat(poolSize - 1) }) }] : []),
    { weight: 1, arbitrary: fc.constant({ role: 'none' as const }) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{0,60}$/).map((token) => ({ role: 'garbage' as const, token })) },
  );
}

/** The caller's bearer token, if any. */
export function tokenOf(pools: Record<UserRole, TestUser[]>, w: Who): string | undefined {
  return w.role === 'none' ? undefined : w.role === 'garbage' ? w.token : pools[w.role][w.i % pools[w.role].length]!.token;
}

/** Whether the route lets this caller in. */
export const admitted = (w: Who, allowed: readonly UserRole[]): boolean => w.role !== 'none' && w.role !== 'garbage' && allowed.includes(w.role);
