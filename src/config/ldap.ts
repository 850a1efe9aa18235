// The agents' directory (LDAP): where it is, how the service account binds, how an agent is found, TLS.
import { z } from 'zod';
import { bool, int, isSet, optionalUrl } from './env-fields.js';

/** The longest LDAP_TIMEOUT_MS may be (the agent-login route's deadline stays above it). */
export const LDAP_TIMEOUT_MAX_MS = 15_000;

export const ldapEnv = z.object({
  LDAP_URL: optionalUrl(['ldap', 'ldaps']),
  LDAP_BIND_DN: z.string().optional(),
  LDAP_BIND_PASSWORD: z.string().optional(),
  LDAP_BASE_DN: z.string().optional(),
  LDAP_USER_FILTER: z.string().includes('{login}', { message: 'must contain {login}' }).default('(uid={login})'),
  LDAP_AGENCY_ATTRIBUTE: z.string().min(1).default('departmentNumber'),
  LDAP_CA_FILE: z.string().optional(),
  /** ldap:// upgraded with StartTLS before any bind (verified against LDAP_CA_FILE or the system roots). */
  LDAP_STARTTLS: bool(false),
  /** Production only: accept ldap:// without StartTLS although passwords then cross the network in clear (logged). */
  LDAP_ALLOW_PLAINTEXT: bool(false),
  LDAP_TIMEOUT_MS: int(5_000, 100, LDAP_TIMEOUT_MAX_MS),
});

type LdapEnv = z.infer<typeof ldapEnv>;

export interface LdapConfig {
  url: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  /** Search filter with `{login}` where the escaped login goes. */
  userFilter: string;
  agencyAttribute: string;
  caFile: string | undefined;
  /** ldap:// only: upgrade with StartTLS before any bind. */
  startTls: boolean;
  timeoutMs: number;
}

export function ldapConfig(e: LdapEnv): LdapConfig | undefined {
  return e.LDAP_URL
    ? {
        url: e.LDAP_URL,
        bindDn: e.LDAP_BIND_DN!,
        bindPassword: e.LDAP_BIND_PASSWORD!,
        baseDn: e.LDAP_BASE_DN!,
        userFilter: e.LDAP_USER_FILTER,
        agencyAttribute: e.LDAP_AGENCY_ATTRIBUTE,
        caFile: e.LDAP_CA_FILE,
        startTls: e.LDAP_STARTTLS,
        timeoutMs: e.LDAP_TIMEOUT_MS,
      }
    : undefined;
}

export function ldapProblems(raw: NodeJS.ProcessEnv): string[] {
  if (!isSet(raw, 'LDAP_URL')) return [];
  return ['LDAP_BIND_DN', 'LDAP_BIND_PASSWORD', 'LDAP_BASE_DN'].filter((k) => !isSet(raw, k)).map((k) => `${k}: required when LDAP_URL is set`);
}

/** The plain-text risk an override let through, as the start log names it. */
export function ldapRisks(e: LdapEnv): string[] {
  const plaintext = e.LDAP_URL?.startsWith('ldap://') === true && !e.LDAP_STARTTLS;
  return plaintext && e.LDAP_ALLOW_PLAINTEXT ? ["LDAP_ALLOW_PLAINTEXT: agents' directory passwords and the service account's cross the network in clear (ldap:// without StartTLS)"] : [];
}
