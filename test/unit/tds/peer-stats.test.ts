import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
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
});
