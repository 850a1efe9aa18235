// Messages of the directory actor: it authenticates agents against the utility's LDAP directory.
import type { Reply } from './reply.js';

/** An agent as the directory knows it, once its password has been checked by a bind as its own entry. */
export interface DirectoryAgent {
  /** The login as the agent typed it (matching in the directory is usually case-insensitive). */
  readonly login: string;
  /** The entry's distinguished name, as the directory returned it. */
  readonly dn: string;
  /** `displayName`, else `cn`, else the login. */
  readonly displayName: string;
  /** `mail`, or null when the entry has none. */
  readonly email: string | null;
  /** The first value of the configured agency attribute (`departmentNumber` by default). */
  readonly agency: string;
}

/**
 * Replies with the agent, or fails with InvalidAgentCredentialsError (unknown login, wrong or empty
 * password: one error for all), AgentWithoutAgencyError, or DirectoryUnavailableError.
 */
export type DirectoryMessage =
  | { type: 'authenticate'; login: string; password: string; replyTo: Reply<DirectoryAgent> }
  /**
   * The agent's entry now, found with the service account: null when the directory no longer has it as an agent
   * (removed, disabled by the user filter, ambiguous, without an agency). Fails only with DirectoryUnavailableError.
   */
  | { type: 'lookup'; login: string; replyTo: Reply<DirectoryAgent | null> };
