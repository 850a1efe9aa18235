// The typed errors of agent authentication against the directory.
import { AppError, ServiceUnavailableError } from '../../errors/app-error.js';

/**
 * Why the directory could not serve:
 * - `unreachable`: connection refused, reset or closed, host unknown;
 * - `timeout`: no connection or no answer within the configured timeout (a hung server);
 * - `tls`: the TLS handshake failed (certificate not trusted, wrong host name);
 * - `busy`: the server answered busy (51) or unavailable (52);
 * - `misconfigured`: the service account's bind or the search was refused (wrong password, base DN …);
 * - `unexpected`: any other refusal of the agent's bind;
 * - `circuit-open`: answered without trying, after consecutive outages, until a probe succeeds.
 */
export type DirectoryOutageReason = 'unreachable' | 'timeout' | 'tls' | 'busy' | 'misconfigured' | 'unexpected' | 'circuit-open';

/** Thrown when the directory is down, refuses connections, hangs past the timeout, or refuses the service account. */
export class DirectoryUnavailableError extends ServiceUnavailableError {
  override readonly code = 'DIRECTORY_UNAVAILABLE';
  constructor(
    readonly reason: DirectoryOutageReason,
    retryAfterMs = 1_000,
    options?: { cause?: unknown },
  ) {
    super('directory', 'The agents directory is unavailable; try again later.', retryAfterMs, 'DIRECTORY_UNAVAILABLE', options);
  }

  /** True for the outages a circuit should count: the directory (or the path to it) is at fault, not one agent's entry. */
  get isOutage(): boolean {
    return this.reason !== 'unexpected' && this.reason !== 'circuit-open';
  }
}

/**
 * Thrown for an unknown login, a wrong password and an empty password alike: the same class, code and
 * message for all three, so a caller learns nothing about which it was.
 */
export class InvalidAgentCredentialsError extends AppError {
  readonly code = 'INVALID_CREDENTIALS';
  constructor() {
    super('The login or the password is incorrect.');
  }
}

/** Thrown after a successful bind when the agent's entry has no value for the agency attribute. */
export class AgentWithoutAgencyError extends AppError {
  readonly code = 'AGENT_WITHOUT_AGENCY';
  constructor(readonly login: string) {
    super('This agent account has no agency in the directory; ask an administrator to set one.');
  }
}
