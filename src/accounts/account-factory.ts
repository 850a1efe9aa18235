// How the accounts service is built from config and the actors it talks to (SMS gateway, directory, cache).
import type { Asker } from '../actor-behaviour.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { DirectoryMessage } from '../contracts/directory-messages.js';
import type { Reply } from '../contracts/reply.js';
import { SMS_SEND_DEADLINE_MS, type SmsMessage } from '../contracts/sms-messages.js';
import { DirectoryUnavailableError } from '../adapters/directory/directory-errors.js';
import { SmsDeliveryUnknownError, SmsUnavailableError } from '../adapters/sms/sms-errors.js';
import { QueryTimeoutError } from '../errors/actor-errors.js';
import type { Logger } from '../logger.js';
import { resources } from '../resources.js';
import { AccountService } from './account-service.js';
import type { AuthWatch } from './auth-watch.js';
import { DEFAULT_CODE_POLICY } from './one-time-codes.js';
import type { PinHasher } from './pin-hasher.js';
import { DEFAULT_LOCKOUT } from './pin-lockout.js';
import type { LinkCache } from '../meters/index.js';
import type { SessionRevocations } from './session-revocations.js';
import type { TokenKeys } from './token-keys.js';

/** What the account service shares with the rest of the process, built once per process. */
export interface AccountProcessDeps {
  readonly keys: TokenKeys;
  readonly hasher: PinHasher;
  /** This instance's memory of ended sessions: what the account service ends is announced through it. */
  readonly revocations: SessionRevocations;
  /** This process's cache of active meter links: the links an account deletion ends are announced through it. */
  readonly links?: LinkCache;
  readonly authWatch: AuthWatch | undefined;
  readonly clock: Clock;
  readonly log: Logger;
}

/** The utility's LDAP when configured; in the demo and tests only, the sandbox directory with the demo agents. */
export const directoryConfigured = (config: Config): boolean => config.ldap !== undefined || config.sandbox;

/** Asks the directory actor; a directory that is not configured, or does not answer in time, is DIRECTORY_UNAVAILABLE. */
async function askDirectory<T extends DirectoryMessage['type']>(
  config: Config,
  asker: Asker,
  msg: { type: T } & Omit<Extract<DirectoryMessage, { type: T }>, 'type' | 'replyTo'>,
): Promise<Extract<DirectoryMessage, { type: T }> extends { replyTo: Reply<infer R> } ? R : never> {
  if (!directoryConfigured(config)) throw new DirectoryUnavailableError('misconfigured');
  const { type, ...payload } = msg;
  // Longer than the directory's own bound, so a hung directory answers 503 DIRECTORY_UNAVAILABLE, not a 504.
  try {
    return (await asker.ask(asker.ref<DirectoryMessage>('directory'), type, payload as never, (config.ldap?.timeoutMs ?? 1_000) + 1_000)) as never;
  } catch (e) {
    if (e instanceof QueryTimeoutError) throw new DirectoryUnavailableError('timeout', 1_000, { cause: e });
    throw e;
  }
}

export function createAccountService(config: Config, asker: Asker, deps: AccountProcessDeps): AccountService {
  const res = resources(asker);
  const links = deps.links;
  return new AccountService({
    db: () => res.db(),
    clock: deps.clock,
    hasher: deps.hasher,
    signing: deps.keys.signing,
    secret: deps.keys.authSecret,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    sessions: config.sessions,
    codes: {
      ...DEFAULT_CODE_POLICY,
      smsPerPhonePerHour: config.accounts.smsPerPhonePerHour,
      smsPerPhonePerDay: config.accounts.smsPerPhonePerDay,
      smsOverallPerDay: config.accounts.smsOverallPerDay,
    },
    lockout: { ...DEFAULT_LOCKOUT, failureWindowMs: config.accounts.pinFailureWindowMs },
    ...(deps.authWatch ? { watch: deps.authWatch } : {}),
    sendSms: async (to, text) => {
      if (config.sms.mode === 'none') throw new SmsUnavailableError('no SMS gateway is configured', 60_000);
      try {
        await asker.ask(asker.ref<SmsMessage>('sms'), 'send', { to, text }, SMS_SEND_DEADLINE_MS);
      } catch (e) {
        // The actor may still be sending: the SMS may arrive, so it counts as sent.
        if (e instanceof QueryTimeoutError) throw new SmsDeliveryUnknownError('the SMS gateway did not answer in time', undefined, { cause: e });
        throw e;
      }
    },
    onAuditError: (err) => deps.log.error({ err }, 'audit event not recorded'),
    sessionsEnded: (ended) => deps.revocations.announce(ended),
    ...(links ? { linksEnded: (ids: readonly string[]) => links.ended(ids) } : {}),
    authenticateAgent: (login, password) => askDirectory(config, asker, { type: 'authenticate', login, password }),
    lookupAgent: (login) => askDirectory(config, asker, { type: 'lookup', login }),
    limit: (action, ip) => res.limit(action, ip),
  });
}
