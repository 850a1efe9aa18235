// The agents directory of the embedded mode (development and demos only, never production): a fixed
// list of agents held in memory, answering like the LDAP one so the same agent login runs end to end.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DirectoryAgent } from '../../contracts/directory-messages.js';
import { AgentWithoutAgencyError, InvalidAgentCredentialsError } from './directory-errors.js';
import type { AgentDirectory, LdapConfig } from './ldap-directory.js';

/** The settings the directory actor reads besides the directory itself (timeouts); the rest is unused by the sandbox. */
export const SANDBOX_LDAP: LdapConfig = { url: 'ldap://sandbox.invalid', bindDn: '', bindPassword: '', baseDn: '', userFilter: '(uid={login})', agencyAttribute: 'departmentNumber', caFile: undefined, startTls: false, timeoutMs: 1_000 };

export interface SandboxAgent {
  readonly login: string;
  readonly password: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly agency: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

const agentOf = (a: SandboxAgent): DirectoryAgent => ({ login: a.login, dn: `uid=${a.login},ou=agents,dc=sandbox`, displayName: a.displayName, email: a.email, agency: a.agency });

export function sandboxDirectory(agents: readonly SandboxAgent[]): AgentDirectory {
  const byLogin = new Map(agents.map((a) => [a.login.toLowerCase(), { ...a, passwordDigest: digest(a.password) }]));
  return {
    async authenticate(login, password) {
      const entry = byLogin.get(login.trim().toLowerCase());
      // Compared by digest so the work is the same whatever the login and password.
      const ok = timingSafeEqual(digest(password), entry?.passwordDigest ?? digest(`${password}\u0000`));
      if (!entry || !ok || password.trim() === '') throw new InvalidAgentCredentialsError();
      if (!entry.agency) throw new AgentWithoutAgencyError(entry.login);
      return agentOf(entry);
    },
    async lookup(login) {
      const entry = byLogin.get(login.trim().toLowerCase());
      return entry?.agency ? agentOf(entry) : null;
    },
    async probe() {},
  };
}
