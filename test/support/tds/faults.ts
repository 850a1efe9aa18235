// The faults a test can script on the TDS peer, and what the peer counts.
import type { RpcParam } from './client-messages.js';
import type { ServerError } from './tokens.js';

export interface PeerFaults {
  /** Accept each connection and never answer anything on it. */
  readonly hang?: boolean;
  /** Close each connection as soon as it is accepted. */
  readonly closeAtOnce?: boolean;
  /** Answer PRELOGIN with ENCRYPT_NOT_SUP: an old tedious then logs in without TLS. */
  readonly refuseEncryption?: boolean;
  /** Answer LOGIN7 with this ERROR (e.g. 18456) instead of LOGINACK. */
  readonly loginError?: ServerError;
  /** Answer queries with this ERROR (e.g. 1205), `times` of them (every one when omitted). */
  readonly queryError?: { readonly error: ServerError; readonly times?: number };
  /** Hold each query reply's first packet this long (an ATTENTION cuts it short). */
  readonly delayReplyMs?: number;
  /** Send COLMETADATA and this many rows, then nothing until an ATTENTION or the socket's end. */
  readonly stallAfterRows?: number;
  /** Send COLMETADATA and this many rows, then close the connection. */
  readonly killAfterRows?: number;
  /** The query faults apply only to statements this matches (all when omitted), e.g. to spare the pool's `SELECT 1`. */
  readonly onlyStatements?: RegExp;
}

export interface LoginRecord {
  readonly userName: string;
  readonly database: string;
  /** Whether LOGIN7 came inside TLS: false means the password travelled in clear. */
  readonly encrypted: boolean;
}

export interface PeerStats {
  connections: number;
  /** Connections that ended (either side closed them): a client retiring one shows here. */
  closed: number;
  readonly logins: LoginRecord[];
  /** Statement texts as received (sp_executesql's @statement or a batch's text), session-setup batches left out. */
  readonly queries: string[];
  /** The declared parameters of each RPC in `queries`' order (a batch has none): name, SQL type, value. */
  readonly parameters: Array<readonly RpcParam[]>;
  attentions: number;
  /** Replies that stalled half-way (stallAfterRows), counted once their rows were written: the client holds them. */
  stalled: number;
}

export const DEADLOCK_VICTIM: ServerError = {
  number: 1205,
  state: 51,
  severity: 13,
  message: 'Transaction (Process ID 52) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.',
};

export const LOGIN_FAILED: ServerError = { number: 18456, state: 1, severity: 14, message: "Login failed for user 'samaconso'." };
