// The bookkeeping every route property test shares: one answer checked against the rules that hold for any input
// (never a 5xx, a 4xx is problem+json with its code's status, the handler reached exactly by the valid requests),
// tallied, and the rates the issue asks for checked at the end.
import { expect } from 'vitest';
import { ERROR_STATUS, type ErrorCode } from '../../src/errors/error-codes.js';

export interface RouteTally {
  runs: number;
  valid: number;
  reached: number;
  /** Answers below 400. */
  ok: number;
  /** Answers by status and code, for the table printed at the end. */
  readonly codes: Map<string, number>;
}

export function newTally(): RouteTally {
  return { runs: 0, valid: 0, reached: 0, ok: 0, codes: new Map() };
}

export interface RunAnswer {
  readonly res: Response;
  /** The body as read. */
  readonly text: string;
  /** Whether the request's service actor handled a message for it. */
  readonly reached: boolean;
  /** Whether the case was valid by the route's own schemas (it must then, and only then, reach the handler). */
  readonly valid: boolean;
  /** What a failure message shows of the request. */
  readonly said: string;
}

/**
 * Tallies one run and checks what holds for any input; returns the parsed body of a success (status below 400) for
 * the caller's own checks of it, else undefined.
 */
export function checkRouteAnswer(tally: RouteTally, run: RunAnswer): Record<string, any> | undefined {
  const { res, text, reached, valid } = run;
  tally.runs++;
  if (valid) tally.valid++;
  if (reached) tally.reached++;
  const body = text ? (JSON.parse(text) as Record<string, any>) : undefined;
  // A success's body may have a `code` of its own (a row's): only problems' codes are tallied.
  const label = res.status >= 400 ? `${res.status} ${body?.code ?? ''}`.trim() : String(res.status);
  tally.codes.set(label, (tally.codes.get(label) ?? 0) + 1);
  const said = `${run.said} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, said).toBeLessThan(500);
  expect(reached, `${valid ? 'a valid request must reach' : 'an invalid one must never reach'} the handler: ${said}`).toBe(valid);
  if (res.status >= 400) {
    expect(res.headers.get('content-type') ?? '', said).toMatch(/^application\/problem\+json/);
    // The router's own 404 (an empty path parameter is another path) is a problem with a code too.
    expect(ERROR_STATUS[body?.code as ErrorCode], said).toBe(res.status);
    return undefined;
  }
  tally.ok++;
  return body ?? {};
}

/** Prints the route's tally and checks the rates: at least a third valid, a third reaching the handler, one success. */
export function checkRates(route: string, tally: RouteTally): void {
  console.table([{ route, runs: tally.runs, valid: tally.valid, reached: tally.reached, ok: tally.ok, answers: [...tally.codes].map(([k, v]) => `${k}×${v}`).join(', ') }]);
  expect(tally.valid).toBeGreaterThanOrEqual(tally.runs / 3);
  expect(tally.reached).toBeGreaterThanOrEqual(tally.runs / 3);
  expect(tally.ok).toBeGreaterThan(0);
}
