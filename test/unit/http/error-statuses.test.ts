// Every error code the sources throw reaches the client as its own status, never as an accidental 500.
// The witness is the source text itself: the codes written in error classes and constructor calls.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toProblem } from '../../../http/problem.js';
import { BrokerRejectedError, BrokerUnavailableError } from '../../../src/adapters/broker/broker.js';
import { FanOutJobNotFoundError } from '../../../src/dispatch/fan-out.js';
import { ActorCrashedError } from '../../../src/errors/actor-errors.js';
import { AppError } from '../../../src/errors/app-error.js';
import { ERROR_STATUS, type ErrorCode } from '../../../src/errors/error-codes.js';
import { LiveBusUnavailableError } from '../../../src/adapters/live-bus/live-bus.js';
import { SmsSandboxOnlyError } from '../../../src/adapters/sms/sms-errors.js';
import { InvalidActorStateError } from '../../../supervisors/actor-cell.js';
import { SupervisorGaveUpError } from '../../../supervisors/supervisor.js';

const ROOT = join(import.meta.dirname, '../../..');
const SOURCE_DIRS = ['src', 'actors', 'supervisors', 'http'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const sources = SOURCE_DIRS.flatMap(sourceFiles).map((file) => ({ file, text: readFileSync(file, 'utf8') }));

/**
 * Codes as the sources write them: `code = 'X'` in a class, the code argument of a ServiceUnavailableError, or an
 * entry `RULE: 'X',` of a table of codes an error class picks from (WeakPinError).
 */
function thrownCodes(): Set<string> {
  const codes = new Set<string>();
  const patterns = [/\bcode\s*=\s*'([A-Z][A-Z0-9_]+)'/g, /(?:new ServiceUnavailableError|super)\([^;\n]*'([A-Z][A-Z0-9_]+)'/g, /^\s+[A-Z_]+: '([A-Z][A-Z0-9_]+)',?$/gm];
  for (const { text } of sources) for (const p of patterns) for (const m of text.matchAll(p)) codes.add(m[1]!);
  return codes;
}

describe('error statuses', () => {
  it('maps every code the sources throw to a status of its own, never 500', () => {
    const codes = [...thrownCodes()];
    expect(codes.length).toBeGreaterThan(30);
    const status = (code: string) => (ERROR_STATUS as Readonly<Record<string, number>>)[code];
    const unmapped = codes.filter((code) => status(code) === undefined || status(code) === 500);
    expect(unmapped).toEqual([]);
  });

  it('holds no status for a code nothing throws', () => {
    const thrown = thrownCodes();
    expect(Object.keys(ERROR_STATUS).filter((code) => !thrown.has(code))).toEqual([]);
  });

  it('answers the runtime, broker, live bus, SMS and fan-out errors with their own status, as expected errors', () => {
    const errors = [
      new ActorCrashedError('accounts', new Error('boom')),
      new InvalidActorStateError('accounts', 'login'),
      new SupervisorGaveUpError('services', 3, 60_000, new Error('boom')),
      new BrokerUnavailableError('the broker is not connected'),
      new BrokerRejectedError('urgent', 'nacked'),
      new LiveBusUnavailableError('the live bus is down'),
      new SmsSandboxOnlyError(),
      new FanOutJobNotFoundError('00000000-0000-0000-0000-000000000000'),
    ];
    const answers = errors.map((e) => {
      const p = toProblem(e, 'req-1');
      return { code: p.body.code, status: p.status, unexpected: p.unexpected };
    });
    for (const a of answers) {
      expect(a.status, a.code).not.toBe(500);
      expect(a.unexpected, a.code).toBe(false);
    }
    expect(answers.map((a) => a.code)).toEqual([
      'ACTOR_CRASHED',
      'INVALID_ACTOR_STATE',
      'SUPERVISOR_GAVE_UP',
      'BROKER_UNAVAILABLE',
      'BROKER_REJECTED',
      'LIVE_BUS_UNAVAILABLE',
      'SMS_SANDBOX_ONLY',
      'FANOUT_JOB_NOT_FOUND',
    ]);
  });

  it('has every error class extend AppError, so each carries a code with a status', () => {
    const plain = sources.flatMap(({ file, text }) =>
      [...text.matchAll(/class (\w+) extends Error\b/g)].map((m) => m[1]!).filter((name) => name !== 'AppError').map((name) => `${name} (${file.slice(ROOT.length + 1)})`),
    );
    expect(plain).toEqual([]);
  });

  it('refuses to compile a code without a status, or a status table missing a code', () => {
    class Unlisted extends AppError {
      // @ts-expect-error a code outside the ErrorCode union has no status, so the class does not compile
      readonly code = 'NOT_A_LISTED_CODE';
    }
    // @ts-expect-error a table that leaves out a code does not compile either
    const partial: Record<ErrorCode, number> = { VALIDATION_FAILED: 400 };
    expect(new Unlisted('x').code).toBe('NOT_A_LISTED_CODE');
    expect(Object.keys(partial)).toHaveLength(1);
  });
});
