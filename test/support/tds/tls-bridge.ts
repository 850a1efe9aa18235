// Server side of TDS's TLS: the handshake travels inside PRELOGIN messages, then TLS records go raw on the socket.
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { PacketType, encodeMessage } from './packets.js';

export interface ServerCertificate {
  readonly keyPem: string;
  readonly certPem: string;
}

/**
 * The client sends one PRELOGIN message per handshake flight and reads exactly one message back (tedious
 * caps TLS at 1.2, so the flights go in lockstep); a reply is owed per message received, and whatever the
 * TLS server writes while one is owed goes wrapped, the rest raw.
 */
export class TlsBridge {
  readonly cleartext: TLSSocket;
  private readonly carrier: Duplex;
  private owed = 0;
  private wrapped: Buffer[] = [];
  private flushScheduled = false;
  private handshakeDone = false;

  constructor(
    private readonly socket: Socket,
    certificate: ServerCertificate,
  ) {
    this.carrier = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _encoding, callback) => {
        this.fromTls(chunk);
        callback();
      },
    });
    this.cleartext = new TLSSocket(this.carrier, {
      isServer: true,
      key: certificate.keyPem,
      cert: certificate.certPem,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
    });
    this.cleartext.once('secure', () => {
      this.handshakeDone = true;
    });
    this.cleartext.on('error', () => socket.destroy());
  }

  /** Past the handshake every byte on the socket is a TLS record, no longer a TDS packet. */
  get secure(): boolean {
    return this.handshakeDone;
  }

  /** A PRELOGIN message's payload during the handshake. */
  handshake(payload: Buffer): void {
    this.owed += 1;
    this.carrier.push(payload);
  }

  /** TLS records read from the socket once the handshake is done. */
  raw(bytes: Buffer): void {
    this.carrier.push(bytes);
  }

  private fromTls(chunk: Buffer): void {
    if (this.owed === 0) {
      this.socket.write(chunk);
      return;
    }
    this.wrapped.push(chunk);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // The TLS server writes one flight in several chunks within a tick: gather them into one reply message.
    setImmediate(() => {
      this.flushScheduled = false;
      this.owed -= 1;
      const flight = Buffer.concat(this.wrapped);
      this.wrapped = [];
      for (const packet of encodeMessage(PacketType.REPLY, flight)) this.socket.write(packet);
    });
  }
}
