// The demo accounts of the embedded mode (`npm start` with no DATABASE_URL; never in production):
// a customer signed in with phone + PIN, an agent and an admin signed in through the sandbox directory.
import type { Config } from '../config.js';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import type { SandboxAgent } from '../adapters/directory/sandbox-directory.js';

/** The embedded mode is the demo: its accounts are seeded at start. */
export const isDemo = (config: Config): boolean => config.postgres.mode === 'embedded' && config.env !== 'production';

export const DEMO_AGENCY = { code: 'DAKAR-PLATEAU', name: 'Dakar Plateau' } as const;

export const DEMO_CUSTOMER = { id: '00000000-0000-4000-8000-000000000001', phone: '+221770000001', pin: '2468', firstName: 'Awa', lastName: 'Ndiaye' } as const;

export const DEMO_AGENTS: readonly (SandboxAgent & { role: 'agent' | 'admin' })[] = [
  { login: 'agent.demo', password: 'demo-agent-pass', displayName: 'Moussa Diallo', email: 'agent.demo@example.invalid', agency: DEMO_AGENCY.code, role: 'agent' },
  { login: 'admin.demo', password: 'demo-admin-pass', displayName: 'Fatou Sarr', email: 'admin.demo@example.invalid', agency: DEMO_AGENCY.code, role: 'admin' },
];

/** Creates (or resets) the demo accounts; idempotent, so every start of the demo finds them as documented. */
export async function seedDemoAccounts(db: PgHandle, hashPin: (pin: string) => Promise<string>, now: Date): Promise<void> {
  const pinHash = await hashPin(DEMO_CUSTOMER.pin);
  await db.transaction(async (c) => {
    await c.query(`INSERT INTO agencies (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name`, [DEMO_AGENCY.code, DEMO_AGENCY.name]);
    await c.query(
      `INSERT INTO users (id, phone, first_name, last_name, pin_hash, role, phone_proved_at, created_at) VALUES ($1, $2, $3, $4, $5, 'customer', $6, $6)
       ON CONFLICT (id) DO UPDATE SET phone = EXCLUDED.phone, pin_hash = EXCLUDED.pin_hash, phone_proved_at = EXCLUDED.phone_proved_at, deleted_at = NULL`,
      [DEMO_CUSTOMER.id, DEMO_CUSTOMER.phone, DEMO_CUSTOMER.firstName, DEMO_CUSTOMER.lastName, pinHash, now],
    );
    await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [DEMO_CUSTOMER.id]);
    // The admin's role lives in PostgreSQL: the directory says who someone is, the app says what they may do.
    for (const a of DEMO_AGENTS) {
      await c.query(
        `INSERT INTO users (id, ldap_login, first_name, email, role, agency_code, created_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6)
         ON CONFLICT (ldap_login) DO UPDATE SET role = EXCLUDED.role, agency_code = EXCLUDED.agency_code, deleted_at = NULL`,
        [a.login, a.displayName, a.email, a.role, a.agency, now],
      );
    }
  });
}

/** The lines `npm start` prints so a person can try the demo at once. */
export function demoCredentialsText(apiUrl: string): string {
  const agents = DEMO_AGENTS.map((a) => `  ${a.role.padEnd(8)} POST ${apiUrl}/v1/auth/agent-login  login=${a.login}  password=${a.password}`);
  return [
    'Demo accounts (embedded mode only):',
    `  customer POST ${apiUrl}/v1/auth/login  phone=${DEMO_CUSTOMER.phone}  pin=${DEMO_CUSTOMER.pin}`,
    ...agents,
    '',
  ].join('\n');
}
