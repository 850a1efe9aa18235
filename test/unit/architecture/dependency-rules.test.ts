// The import rules of ../shared/docs/DESIGN.md §2 (and docs/ARCHITECTURE.md "The shape") hold on the real tree, and the check reports each kind of forbidden import.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImportRules, describeViolation, REPO_ROOT, type RuleViolation } from './import-rules.js';

// A cruise of the whole tree takes about two seconds alone, eleven beside the rest of test/unit on a busy machine.
const CRUISE_TIMEOUT_MS = 60_000;

describe('import rules', () => {
  it('the source tree breaks none of them', async () => {
    const violations = await checkImportRules(REPO_ROOT);
    expect(violations.map(describeViolation)).toEqual([]);
  }, CRUISE_TIMEOUT_MS);
});

// A small tree with one forbidden import of each kind, beside allowed ones that must stay silent. Written to a
// temporary directory so that neither tsc nor vitest ever picks it up.
const FIXTURE: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    include: ['src', 'actors', 'supervisors', 'http'],
  }),
  // a cycle of value imports
  'src/cluster/ring-a.ts': "import { b } from './ring-b.js';\nexport const a = (): number => b() + 1;\n",
  'src/cluster/ring-b.ts': "import { a } from './ring-a.js';\nexport const b = (): number => (a.length > 1 ? 0 : 1);\n",
  // a cycle of type-only imports: gone after compilation, a coupling all the same
  'src/inbox/left.ts': "import type { Right } from './right.js';\nexport interface Left { right?: Right }\n",
  'src/inbox/right.ts': "import type { Left } from './left.js';\nexport interface Right { left?: Left }\n",
  // the inbox's public module: other features may import it
  'src/inbox/index.ts': "export type { Left } from './left.js';\n",
  // http/ → a service (forbidden) beside http/ → contracts, domain, errors, config, logger and itself (allowed)
  'http/routes/login.ts': [
    "import type { LoginRequest } from '../../src/contracts/accounts.js';",
    "import { PIN_LENGTH } from '../../src/domain/pin.js';",
    "import { AppError } from '../../src/errors/app-error.js';",
    "import { config } from '../../src/config.js';",
    "import { logger } from '../../src/logger.js';",
    "import { route } from '../route.js';",
    "import { AccountService } from '../../src/accounts/account-service.js';",
    'export const login = [PIN_LENGTH, AppError, config, logger, route, AccountService] as const;',
    'export type Login = LoginRequest;',
    '',
  ].join('\n'),
  'http/route.ts': 'export const route = 1;\n',
  'src/config.ts': 'export const config = {};\n',
  'src/logger.ts': 'export const logger = {};\n',
  'src/errors/app-error.ts': 'export class AppError extends Error {}\n',
  'src/accounts/account-service.ts': "import { PIN_LENGTH } from '../domain/pin.js';\nexport class AccountService { pin = PIN_LENGTH; }\n",
  // contracts → an adapter (forbidden) beside contracts → domain (allowed)
  'src/contracts/accounts.ts': [
    "import type { Pin } from '../domain/pin.js';",
    "import type { Pool } from '../adapters/postgres/pool.js';",
    'export interface LoginRequest { pin: Pin; pool?: Pool }',
    '',
  ].join('\n'),
  'src/adapters/postgres/pool.ts': 'export interface Pool { query(sql: string): Promise<unknown> }\n',
  // domain → outside it (forbidden)
  'src/domain/pin.ts': "import { config } from '../config.js';\nexport type Pin = string;\nexport const PIN_LENGTH = config ? 4 : 4;\n",
  // a feature → another feature's internal file (forbidden), its public module and a config folder (allowed)
  'src/dispatch/fan-out.ts': [
    "import type { Left } from '../inbox/index.js';",
    "import type { Right } from '../inbox/right.js';",
    "import type { HttpConfig } from '../config/http.js';",
    'export type Fan = [Left, Right, HttpConfig];',
    '',
  ].join('\n'),
  'src/config/http.ts': 'export interface HttpConfig { port: number }\n',
  // src/ → actors/ (forbidden), except from the composition root (allowed)
  'src/demo/seed.ts': "import { accountsActor } from '../../actors/services/accounts.js';\nexport const seed = accountsActor;\n",
  'src/node.ts': "import { accountsActor } from '../actors/services/accounts.js';\nexport const node = accountsActor;\n",
  // actors/ → supervisors/ (forbidden) beside actors/ → src/ (allowed)
  'actors/services/accounts.ts': [
    "import { AccountService } from '../../src/accounts/account-service.js';",
    "import { tree } from '../../supervisors/tree/root.js';",
    'export const accountsActor = [AccountService, tree];',
    '',
  ].join('\n'),
  'supervisors/tree/root.ts': 'export const tree = 1;\n',
  // an adapter → a feature (forbidden)
  'src/adapters/live-bus/live-event.ts': "import type { Left } from '../../inbox/index.js';\nexport type LiveEvent = Left;\n",
};

describe('the import-rules check', () => {
  let dir = '';
  let violations: RuleViolation[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'import-rules-'));
    for (const [file, text] of Object.entries(FIXTURE)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    violations = await checkImportRules(dir);
  }, CRUISE_TIMEOUT_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const reported = (rule: string): string[] =>
    violations.filter((v) => v.rule === rule).map((v) => `${v.from} → ${v.to}`);

  it('reports a cycle of value imports', () => {
    expect(violations.some((v) => v.rule === 'no-circular' && v.from.startsWith('src/cluster/ring-'))).toBe(true);
  });

  it('reports a cycle of type-only imports', () => {
    expect(violations.some((v) => v.rule === 'no-circular' && /^src\/inbox\/(left|right)\.ts$/.test(v.from))).toBe(true);
  });

  it('reports http/ importing a service, and none of its allowed imports', () => {
    expect(reported('http-only-kernel')).toEqual(['http/routes/login.ts → src/accounts/account-service.ts']);
  });

  it('reports contracts importing an adapter', () => {
    expect(reported('contracts-pure')).toEqual(['src/contracts/accounts.ts → src/adapters/postgres/pool.ts']);
  });

  it('reports domain importing outside src/domain/', () => {
    expect(reported('domain-pure')).toEqual(['src/domain/pin.ts → src/config.ts']);
  });

  it("reports a feature importing another feature's internal file, not its public module", () => {
    expect(reported('feature-through-public-module')).toEqual(['src/dispatch/fan-out.ts → src/inbox/right.ts']);
  });

  it('reports src/ importing actors/ except from the composition root, actors/ importing supervisors/, an adapter importing a feature', () => {
    expect(reported('src-not-outer-layers')).toEqual(['src/demo/seed.ts → actors/services/accounts.ts']);
    expect(reported('actors-not-outer-layers')).toEqual(['actors/services/accounts.ts → supervisors/tree/root.ts']);
    expect(reported('adapters-not-features')).toEqual(['src/adapters/live-bus/live-event.ts → src/inbox/index.ts']);
  });

  it('reports nothing else: no other cycle, no unresolved import', () => {
    const cycles = violations.filter((v) => v.rule === 'no-circular');
    expect(cycles.filter((v) => !/^src\/(cluster\/ring-[ab]|inbox\/(left|right))\.ts$/.test(v.from)).map(describeViolation)).toEqual([]);
    expect(violations.filter((v) => v.rule === 'no-unresolvable').map(describeViolation)).toEqual([]);
  });
});
