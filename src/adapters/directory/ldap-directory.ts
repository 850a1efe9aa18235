// Agent authentication against the LDAP directory with ldapts: search with the service account, then bind as the agent.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError, type Entry } from 'ldapts';
import type { LdapConfig } from '../../config/ldap.js';
import type { DirectoryAgent } from '../../contracts/directory-messages.js';
import { errorCode, errorMessage } from '../../errors/app-error.js';
import type { Logger } from '../../logger.js';
import { AgentWithoutAgencyError, DirectoryUnavailableError, InvalidAgentCredentialsError } from './directory-errors.js';

export type { LdapConfig };

export interface AgentDirectory {
  /**
   * Checks the agent's password and returns its entry. Rejects with InvalidAgentCredentialsError,
   * AgentWithoutAgencyError or DirectoryUnavailableError; never with anything else. The whole attempt
   * (connect, binds, search) is bounded by `timeoutMs`.
   */
  authenticate(login: string, password: string, signal?: AbortSignal): Promise<DirectoryAgent>;
  /**
   * The agent's entry as the directory has it now, found with the service account (no password): null when the login
   * finds no entry (removed, or disabled where the user filter excludes disabled accounts), more than one, or one
   * without an agency. Rejects with DirectoryUnavailableError only. How a session is re-checked at refresh.
   */
  lookup(login: string, signal?: AbortSignal): Promise<DirectoryAgent | null>;
  /** Binds as the service account and unbinds: resolves when the directory serves again, else rejects with DirectoryUnavailableError. */
  probe(signal?: AbortSignal): Promise<void>;
}

/** Longest login sent to the directory; a longer one is refused as invalid credentials without a network call. */
export const MAX_LOGIN_LENGTH = 256;

/** RFC 4515 escaping of an assertion value: `\ * ( )` and NUL become `\5c \2a \28 \29 \00`. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The configured filter with every `{login}` replaced by the escaped login (a function replacer: `$&` in a login stays literal). */
export function userFilter(template: string, login: string): string {
  const escaped = escapeFilterValue(login);
  return template.replaceAll('{login}', () => escaped);
}

type Stage = 'connect' | 'service-bind' | 'search' | 'agent-bind';

const LDAP_BUSY = 51;
const LDAP_UNAVAILABLE = 52;
const LDAP_INVALID_CREDENTIALS = 49;
const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT']);
// Node's TLS verification and handshake failures (UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID, ERR_SSL_…).
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|^ERR_TLS_|^ERR_SSL_|^EPROTO$/;

/** Maps what ldapts or the socket threw at `stage` to the typed error the caller gets. */
export function classifyLdapError(error: unknown, stage: Stage): InvalidAgentCredentialsError | DirectoryUnavailableError | AgentWithoutAgencyError {
  if (error instanceof InvalidAgentCredentialsError || error instanceof DirectoryUnavailableError || error instanceof AgentWithoutAgencyError) return error;
  const cause = { cause: error };
  if (error instanceof ResultCodeError) {
    if (error.code === LDAP_INVALID_CREDENTIALS && stage === 'agent-bind') return new InvalidAgentCredentialsError();
    if (error.code === LDAP_BUSY || error.code === LDAP_UNAVAILABLE) return new DirectoryUnavailableError('busy', 1_000, cause);
    // The service account's bind or the search refused: the configuration (or the account) is wrong, not the agent.
    return new DirectoryUnavailableError(stage === 'agent-bind' ? 'unexpected' : 'misconfigured', 1_000, cause);
  }
  const code = errorCode(error);
  const message = errorMessage(error);
  // ldapts rejects with plain Errors: "<Request>: Operation timed out" (timeout) and "Connection timeout" (connectTimeout).
  if (code === 'ETIMEDOUT' || /Operation timed out|Connection timeout/.test(message)) return new DirectoryUnavailableError('timeout', 1_000, cause);
  if (code !== undefined && TLS_CODE.test(code)) return new DirectoryUnavailableError('tls', 1_000, cause);
  if ((code !== undefined && TRANSPORT_CODES.has(code)) || /^Socket error|^Connection closed|Socket connection not established/.test(message)) {
    return new DirectoryUnavailableError('unreachable', 1_000, cause);
  }
  return new DirectoryUnavailableError('unexpected', 1_000, cause);
}

/** The first non-blank value of `attribute` (names compared case-insensitively, as LDAP does). */
function firstValue(entry: Entry, attribute: string): string | undefined {
  const wanted = attribute.toLowerCase();
  const key = Object.keys(entry).find((k) => k !== 'dn' && k.toLowerCase() === wanted);
  const raw = key === undefined ? undefined : entry[key];
  const first = Array.isArray(raw) ? raw[0] : raw;
  const text = first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : first;
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

export function createLdapDirectory(config: LdapConfig, log: Logger): AgentDirectory {
  const ldaps = new URL(config.url).protocol === 'ldaps:';
  // ldap:// with StartTLS: the plain port is upgraded before any bind, so no password crosses it in clear.
  const startTls = !ldaps && config.startTls;
  if (!ldaps && !startTls && config.caFile) log.warn({ url: config.url }, 'LDAP_CA_FILE is ignored: the directory URL is not ldaps:// and StartTLS is off');
  let ca: Promise<Buffer> | undefined;

  const tlsOptions = async (): Promise<ConnectionOptions | undefined> => {
    if (!ldaps && !startTls) return undefined;
    if (!config.caFile) return { rejectUnauthorized: true, minVersion: 'TLSv1.2' };
    const file = config.caFile;
    // Read once; a failed read is retried on the next attempt (the file may be mounted later).
    ca ??= readFile(file).catch((e: unknown) => {
      ca = undefined;
      throw new DirectoryUnavailableError('misconfigured', 1_000, { cause: new Error(`cannot read the directory CA file ${file}: ${errorMessage(e)}`, { cause: e }) });
    });
    return { ca: [await ca], rejectUnauthorized: true, minVersion: 'TLSv1.2' };
  };

  /** Runs `work` on a fresh client, bounded by timeoutMs overall and cut by `signal`; always unbinds. */
  const withClient = async <T>(signal: AbortSignal | undefined, work: (client: Client, at: (s: Stage) => void) => Promise<T>): Promise<T> => {
    let client: Client | undefined;
    let stage: Stage = 'connect';
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const cut = new Promise<never>((_, reject) => {
      // Built when it fires, naming the stage the attempt hung at.
      timer = setTimeout(() => reject(new DirectoryUnavailableError('timeout', 1_000, { cause: new Error(`no answer within ${config.timeoutMs} ms (${stage})`) })), config.timeoutMs);
      onAbort = () => reject(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    cut.catch(() => undefined); // it may fire before the race below is entered (while the CA file is read)
    try {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const tls = await tlsOptions();
      // Both timeouts always set: without them a server that accepts and never answers blocks forever.
      // tlsOptions on an ldap:// URL would make ldapts speak TLS to the plain port: StartTLS takes them instead.
      client = new Client({ url: config.url, timeout: config.timeoutMs, connectTimeout: config.timeoutMs, ...(tls && ldaps ? { tlsOptions: tls } : {}) });
      const c = client;
      const run = async (): Promise<T> => {
        if (startTls) await c.startTLS(tls ?? {});
        return work(c, (s) => (stage = s));
      };
      return await Promise.race([run(), cut]);
    } catch (e) {
      // Stopped while trying (the actor is going away): its caller's reply is failed by the runtime anyway.
      if (signal?.aborted) throw new DirectoryUnavailableError('unreachable', 1_000, { cause: signal.reason });
      throw classifyLdapError(e, stage);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      // Unbinding also destroys the socket, which settles any operation still waiting on it.
      await client?.unbind().catch(() => undefined);
    }
  };

  /** Binds as the service account and searches the login: the one entry it names, or why there is none. */
  const findEntry = async (client: Client, login: string, at: (s: Stage) => void): Promise<{ kind: 'one'; entry: Entry } | { kind: 'none' | 'many' | 'no-dn' }> => {
    at('service-bind');
    await client.bind(config.bindDn, config.bindPassword);
    at('search');
    const { searchEntries } = await client.search(config.baseDn, {
      scope: 'sub',
      filter: userFilter(config.userFilter, login),
      sizeLimit: 2,
      timeLimit: Math.max(1, Math.ceil(config.timeoutMs / 1_000)),
      derefAliases: 'never',
      attributes: ['displayName', 'cn', 'mail', config.agencyAttribute],
    });
    if (searchEntries.length === 0) return { kind: 'none' };
    if (searchEntries.length > 1) {
      log.warn({ login, filter: config.userFilter }, 'the login matches more than one directory entry; refusing it');
      return { kind: 'many' };
    }
    const entry = searchEntries[0]!;
    // An empty DN would make the next bind anonymous.
    return entry.dn.trim() === '' ? { kind: 'no-dn' } : { kind: 'one', entry };
  };

  /** The agent an entry describes, or null when it has no agency. */
  const agentOf = (login: string, entry: Entry): DirectoryAgent | null => {
    const agency = firstValue(entry, config.agencyAttribute);
    if (agency === undefined) return null;
    return { login, dn: entry.dn, displayName: firstValue(entry, 'displayName') ?? firstValue(entry, 'cn') ?? login, email: firstValue(entry, 'mail') ?? null, agency };
  };

  const refuse = (login: string, why: string): never => {
    log.info({ login, why }, 'agent login refused');
    throw new InvalidAgentCredentialsError();
  };

  const logOutage = (login: string | undefined, e: unknown): void => {
    if (!(e instanceof DirectoryUnavailableError)) return;
    const cause = e.cause;
    const fields = { login, reason: e.reason, code: errorCode(cause), err: errorMessage(cause) };
    // Transport outages are the actor's to report (it owns the circuit); what no outage explains is logged here, with its code.
    if (e.reason === 'misconfigured') log.error(fields, 'directory misconfigured: the CA file, the service account or the search was refused');
    else if (e.reason === 'unexpected') log.error(fields, 'directory failed unexpectedly');
    else log.debug(fields, 'directory unavailable');
  };

  return {
    async authenticate(login, password, signal) {
      // Refused before any network call: an empty password would be an unauthenticated bind (RFC 4513 §5.1.2).
      if (typeof password !== 'string' || password.trim() === '') return refuse(String(login), 'empty password');
      if (typeof login !== 'string' || login.trim() === '' || login.length > MAX_LOGIN_LENGTH) return refuse(String(login).slice(0, MAX_LOGIN_LENGTH), 'empty or overlong login');
      try {
        return await withClient(signal, async (client, at) => {
          const found = await findEntry(client, login, at);
          if (found.kind !== 'one') return refuse(login, found.kind === 'none' ? 'unknown login' : found.kind === 'many' ? 'ambiguous login' : 'entry without a DN');
          const entry = found.entry;
          at('agent-bind');
          try {
            await client.bind(entry.dn, password);
          } catch (e) {
            if (e instanceof InvalidCredentialsError) return refuse(login, 'wrong password');
            throw e;
          }
          // Checked only after the password: before it, this error would tell that the login exists.
          const agent = agentOf(login, entry);
          if (!agent) {
            log.warn({ login, dn: entry.dn, attribute: config.agencyAttribute }, 'agent entry has no agency');
            throw new AgentWithoutAgencyError(login);
          }
          return agent;
        });
      } catch (e) {
        logOutage(login, e);
        throw e;
      }
    },

    async lookup(login, signal) {
      if (login.trim() === '' || login.length > MAX_LOGIN_LENGTH) return null;
      try {
        return await withClient(signal, async (client, at) => {
          const found = await findEntry(client, login, at);
          return found.kind === 'one' ? agentOf(login, found.entry) : null;
        });
      } catch (e) {
        // Only outages reach the caller: an entry that cannot be read as an agent is no agent.
        if (e instanceof DirectoryUnavailableError) {
          logOutage(login, e);
          throw e;
        }
        log.warn({ login, err: errorMessage(e) }, 'directory lookup refused; the entry counts as gone');
        return null;
      }
    },

    async probe(signal) {
      try {
        await withClient(signal, async (client, at) => {
          at('service-bind');
          await client.bind(config.bindDn, config.bindPassword);
        });
      } catch (e) {
        logOutage(undefined, e);
        throw e;
      }
    },
  };
}
