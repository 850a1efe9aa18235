// What the TDS peer counts on raw sockets: connections that ended, replies stalled half-way.
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { MessageGatherer, PacketType, encodePacket } from '../../support/tds/packets.js';
import { tdsTestCa } from '../../support/tds/test-ca.js';
import { TdsPeer } from '../../support/tds/tds-peer.js';
import { waitFor } from '../../support/wait.js';

// No statement reaches the database in these tests: connections are opened and ended before any TDS message.
const noDb = { query: () => Promise.reject(new Error('no query expected')) };

let peer: TdsPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A plain session (PRELOGIN asking no encryption, a LOGIN7 with empty names), its raw reply bytes kept after the login. */
async function session(port: number): Promise<{ socket: Socket; raw: Buffer[] }> {
  const socket = await open(port);
  const gatherer = new MessageGatherer();
  let replies = 0;
  const raw: Buffer[] = [];
  socket.on('data', (bytes: Buffer) => {
    if (replies >= 2) raw.push(bytes);
    else replies += gatherer.push(bytes).length;
  });
  socket.write(encodePacket(PacketType.PRELOGIN, 0x01, 1, Buffer.from('01' + '0006' + '0001' + 'ff' + '00', 'hex')));
  await waitFor('the PRELOGIN reply', () => replies === 1);
  const login7 = Buffer.alloc(94);
  login7.writeUInt32LE(4096, 8);
  socket.write(encodePacket(PacketType.LOGIN7, 0x01, 1, login7));
  await waitFor('the LOGINACK', () => replies === 2);
  return { socket, raw };
}

/** A SQL_BATCH message: ALL_HEADERS of its own length only, then the text in UCS-2. */
function batch(text: string): Buffer {
  const headers = Buffer.alloc(4);
  headers.writeUInt32LE(4);
  return encodePacket(PacketType.SQL_BATCH, 0x01, 1, Buffer.concat([headers, Buffer.from(text, 'utf16le')]));
}

describe('TDS peer stats', () => {
  it('counts a connection the client ends as closed, and an open one not', async () => {
    peer = await TdsPeer.start({ db: noDb, certificate: await tdsTestCa() });
    const stats = peer.stats;
    const first = await open(peer.port);
    const second = await open(peer.port);
    await waitFor('accepted', () => stats.connections === 2);
    expect(stats.closed).toBe(0);
    first.end();
    await waitFor('first closed', () => stats.closed === 1);
    expect(second.destroyed).toBe(false);
    second.destroy();
    await waitFor('second closed', () => stats.closed === 2);
  });

  it('counts the connections it closes itself (close at once)', async () => {
    peer = await TdsPeer.start({ db: noDb, certificate: await tdsTestCa(), faults: { closeAtOnce: true } });
    const socket = await open(peer.port);
    socket.on('error', () => undefined);
    await waitFor('closed by the peer', () => peer?.stats.closed === 1);
    expect(peer.stats.connections).toBe(1);
  });

  it('counts a reply that stalls half-way once its rows are written, the message left without its end bit', async () => {
    const twoRows: pg.QueryArrayResult = {
      command: 'SELECT',
      rowCount: 2,
      oid: 0,
      fields: [{ name: 'n', dataTypeID: 23, dataTypeModifier: -1 } as pg.FieldDef],
      rows: [[1], [2]],
    };
    peer = await TdsPeer.start({ db: { query: async () => twoRows }, certificate: await tdsTestCa(), faults: { stallAfterRows: 1 } });
    const { socket, raw } = await session(peer.port);
    expect(peer.stats.stalled).toBe(0);
    socket.write(batch('SELECT n FROM t'));
    await waitFor('the reply stalled', () => peer?.stats.stalled === 1);
    await waitFor('its first packet', () => raw.length > 0);
    const first = Buffer.concat(raw);
    expect(first[0]).toBe(PacketType.REPLY);
    expect(first[1]! & 0x01).toBe(0);
    socket.destroy();
  });
});
