// One client connection to the TDS peer: PRELOGIN/TLS, LOGIN7, batches, RPC calls, ATTENTION, with the faults applied.
import type { Socket } from 'node:net';
import { SP_EXECUTESQL, type RpcParam, decodeLogin7, decodeRpc, decodeSqlBatch } from './client-messages.js';
import { type ExecuteOptions, type Queryable, execute } from './executor.js';
import type { LoginRecord, PeerFaults } from './faults.js';
import { MessageGatherer, PacketType, STATUS_EOM, STATUS_IGNORE, type TdsMessage, encodeMessage, encodePacket } from './packets.js';
import { type ServerCertificate, TlsBridge } from './tls-bridge.js';
import * as t from './tokens.js';

/** What a connection needs from its peer. */
export interface PeerContext {
  readonly db: Queryable;
  readonly certificate: ServerCertificate;
  readonly executeOptions: ExecuteOptions;
  faults(): PeerFaults;
  /** The query error to answer with now, if the fault has some left (counts it down). */
  takeQueryError(): t.ServerError | undefined;
  onLogin(login: LoginRecord): void;
  onQuery(statement: string, params: readonly RpcParam[]): void;
  onAttention(): void;
  /** A reply's partial rows were written and it now stalls. */
  onStalled(): void;
}

/** A query reply under way: an ATTENTION cancels it and ends it itself. */
interface Reply {
  cancelled: boolean;
  /** Some packets went out without the end bit. */
  open: boolean;
  wake?: () => void;
}

/** The DONE token's current command (TDS CurCmd) by pg's command tag. */
const CUR_CMD: Readonly<Record<string, number>> = { SELECT: 0xc1, INSERT: 0xc3, DELETE: 0xc4, UPDATE: 0xc5 };

export class PeerConnection {
  private readonly plain = new MessageGatherer();
  private readonly inTls = new MessageGatherer();
  private bridge: TlsBridge | undefined;
  private queue: Promise<void> = Promise.resolve();
  private packetSize = 4096;
  private reply: Reply | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: PeerContext,
  ) {
    socket.on('error', () => undefined);
    socket.on('close', () => this.reply?.wake?.());
    socket.on('data', (bytes: Buffer) => {
      if (this.bridge?.secure) this.bridge.raw(bytes);
      else this.receive(this.plain.push(bytes));
    });
  }

  private receive(messages: TdsMessage[]): void {
    for (const message of messages) {
      // ATTENTION must overtake the reply it cancels, so it skips the queue.
      if (message.type === PacketType.ATTENTION) this.attention();
      else this.queue = this.queue.then(() => this.handle(message)).catch(() => {
          this.socket.destroy();
        });
    }
  }

  /** Resolves once the last packet is handed to the socket (through TLS when it runs). */
  private send(payload: Buffer, endOfMessage = true): Promise<void> {
    const out = this.bridge?.secure ? this.bridge.cleartext : this.socket;
    const packets = encodeMessage(PacketType.REPLY, payload, this.packetSize, endOfMessage);
    return new Promise((resolve) => packets.forEach((packet, i) => out.write(packet, i === packets.length - 1 ? () => resolve() : undefined)));
  }

  private async handle(message: TdsMessage): Promise<void> {
    if ((message.status & STATUS_IGNORE) !== 0) return this.send(t.done(t.Token.DONE, t.DoneStatus.FINAL));
    switch (message.type) {
      case PacketType.PRELOGIN:
        return this.prelogin(message.payload);
      case PacketType.LOGIN7:
        return this.login(message.payload);
      case PacketType.SQL_BATCH: {
        const text = decodeSqlBatch(message.payload);
        // The session-setup batch (`set ansi_nulls on …`) only needs its DONE.
        if (/^(\s*set\s+[^;\n]+;?)+\s*$/i.test(text)) return this.send(t.done(t.Token.DONE, t.DoneStatus.FINAL));
        return this.query(text, [], false);
      }
      case PacketType.RPC: {
        const call = decodeRpc(message.payload);
        const statement = call.params[0]?.value;
        if (call.procId !== SP_EXECUTESQL || typeof statement !== 'string') {
          return this.fail({ number: 2812, message: `the TDS peer runs sp_executesql only (got ${call.procName ?? call.procId})` }, true);
        }
        return this.query(statement, call.params.slice(2), true);
      }
      default:
        throw new Error(`unexpected TDS message type 0x${message.type.toString(16)}`);
    }
  }

  private prelogin(payload: Buffer): void {
    if (this.bridge) return this.bridge.handshake(payload);
    const asked = t.preloginEncryption(payload);
    const encrypt = !this.ctx.faults().refuseEncryption && (asked === t.Encryption.ON || asked === t.Encryption.REQ);
    this.send(t.preloginReply(encrypt ? t.Encryption.ON : t.Encryption.NOT_SUP));
    if (!encrypt) return;
    this.bridge = new TlsBridge(this.socket, this.ctx.certificate);
    this.bridge.cleartext.on('data', (bytes: Buffer) => this.receive(this.inTls.push(bytes)));
  }

  private login(payload: Buffer): void {
    const login = decodeLogin7(payload);
    this.ctx.onLogin({ userName: login.userName, database: login.database, encrypted: this.bridge?.secure === true });
    const loginError = this.ctx.faults().loginError;
    if (loginError) {
      void this.send(Buffer.concat([t.error(loginError), t.done(t.Token.DONE, t.DoneStatus.ERROR)]));
      return;
    }
    const requested = payload.readUInt32LE(8);
    const database = login.database || 'master';
    this.send(
      Buffer.concat([
        t.envChangeText(1, database, 'master'),
        t.envChangeCollation(),
        t.loginAck(),
        t.envChangeText(4, String(requested), '4096'),
        t.done(t.Token.DONE, t.DoneStatus.FINAL),
      ]),
    );
    this.packetSize = requested;
  }

  private fail(error: t.ServerError, rpc: boolean): void {
    void this.send(Buffer.concat([t.error(error), t.done(rpc ? t.Token.DONEPROC : t.Token.DONE, t.DoneStatus.ERROR)]));
  }

  private async query(statement: string, params: readonly RpcParam[], rpc: boolean): Promise<void> {
    this.ctx.onQuery(statement, params);
    const faults = this.ctx.faults();
    const faulty = !faults.onlyStatements || faults.onlyStatements.test(statement);
    const reply: Reply = { cancelled: false, open: false };
    this.reply = reply;
    try {
      if (faulty && faults.delayReplyMs !== undefined) await this.pause(reply, faults.delayReplyMs);
      if (reply.cancelled) return;
      const injected = faulty ? this.ctx.takeQueryError() : undefined;
      if (injected) return this.fail(injected, rpc);
      const result = await execute(this.ctx.db, statement, params, this.ctx.executeOptions).catch((e: unknown) => e as Error);
      if (reply.cancelled) return;
      if (result instanceof Error) return this.fail({ number: 50000, message: `TDS peer: ${result.message}` }, rpc);
      let rows: Buffer[];
      try {
        rows = result.rows.map((values) => t.row(result.columns, values));
      } catch (e) {
        return this.fail({ number: 50000, message: `TDS peer: ${(e as Error).message}` }, rpc);
      }
      const partial = faulty ? (faults.stallAfterRows ?? faults.killAfterRows) : undefined;
      if (partial !== undefined) {
        reply.open = true;
        // The rows reach the client first, then the connection ends or the reply stalls.
        await this.send(Buffer.concat([t.colMetadata(result.columns), ...rows.slice(0, partial)]), false);
        if (faults.stallAfterRows === undefined) {
          this.socket.end();
          return;
        }
        this.ctx.onStalled();
        // Cancelled or cut while the rows were written: nothing is left to wait for.
        if (reply.cancelled || this.socket.destroyed) return;
        return await this.pause(reply, undefined);
      }
      const curCmd = CUR_CMD[result.command] ?? CUR_CMD.SELECT!;
      const tail = rpc
        ? [t.done(t.Token.DONEINPROC, t.DoneStatus.MORE | t.DoneStatus.COUNT, result.rowCount, curCmd), t.returnStatus(0), t.done(t.Token.DONEPROC, t.DoneStatus.FINAL)]
        : [t.done(t.Token.DONE, t.DoneStatus.COUNT, result.rowCount, curCmd)];
      // A statement without a result set (INSERT without OUTPUT) sends no COLMETADATA, as SQL Server does: only its count.
      const head = result.columns.length > 0 ? [t.colMetadata(result.columns), ...rows] : [];
      this.send(Buffer.concat([...head, ...tail]));
    } finally {
      if (this.reply === reply) this.reply = undefined;
    }
  }

  /** Waits `ms` (forever when undefined) or until an ATTENTION or the socket's close. */
  private pause(reply: Reply, ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(resolve, ms);
      reply.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends the cancelled reply (one message), then acknowledges with DONE + ATTN (a second message). */
  private attention(): void {
    this.ctx.onAttention();
    const reply = this.reply;
    const end = t.done(t.Token.DONE, t.DoneStatus.FINAL);
    if (reply && !reply.cancelled) {
      reply.cancelled = true;
      reply.wake?.();
      if (reply.open) (this.bridge?.secure ? this.bridge.cleartext : this.socket).write(encodePacket(PacketType.REPLY, STATUS_EOM, 0, end));
      else this.send(end);
    }
    this.send(t.done(t.Token.DONE, t.DoneStatus.ATTN));
  }
}
