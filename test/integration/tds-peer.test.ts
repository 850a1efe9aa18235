// The TDS test peer against the real `mssql` client (tedious 19) with production's TLS settings: typed rows from the
// T-SQL's own text run on PostgreSQL, and what the client sees under each scripted fault.
import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import sql from 'mssql';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageGatherer, PacketType, type TdsMessage, encodePacket } from '../support/tds/packets.js';
import { tdsTestCa } from '../support/tds/test-ca.js';
import { DEADLOCK_VICTIM, LOGIN_FAILED, TdsPeer } from '../support/tds/tds-peer.js';
import { createEmptyDatabase, type TestDatabase } from '../support/services.js';
import { waitFor } from '../support/wait.js';

let db: TestDatabase;
let client: pg.Client;
let peer: TdsPeer;
let caPem: string;
const pools: sql.ConnectionPool[] = [];

const SALES = `SELECT TOP (@n) [NUMERO_COMMANDE], [NUMERO_COMPTEUR], [MONTANT_TTC], [ENERGIE_VENDUE], [DATE_TRANSACTION],
  [DT_DERNIERE_MAJ], [ARRONDI], [PAYE], [NOM_OPERATEUR], [MONTANT_RECU]
FROM [dbo].[HEXING_SENELECBILL_ALHDL2] WHERE [NUMERO_COMPTEUR] = @meter ORDER BY [DATE_TRANSACTION] DESC`;

beforeAll(async () => {
  db = await createEmptyDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(`CREATE TABLE "HEXING_SENELECBILL_ALHDL2" (
    "NUMERO_COMMANDE" bigint, "NUMERO_COMPTEUR" varchar(20), "MONTANT_TTC" numeric(12,2), "ENERGIE_VENDUE" double precision,
    "DATE_TRANSACTION" timestamp(3), "DT_DERNIERE_MAJ" timestamp, "ARRONDI" integer, "PAYE" boolean, "NOM_OPERATEUR" text,
    "MONTANT_RECU" numeric)`);
  await client.query(`INSERT INTO "HEXING_SENELECBILL_ALHDL2" VALUES
    (9007199254740993, '14250012345', 5000.50, 37.25, '2026-03-01 08:30:00.125', '2026-03-01 08:30:00.120', 3, true, 'WAVE', NULL),
    (2, '14250012345', -12.05, 0.5, '2026-02-01 10:00:00', '2026-02-01 10:00:00', 0, false, NULL, 1999.999),
    (3, '14250012345', 7000.00, 52, '2026-01-01 00:00:00', '2026-01-01 00:00:00', NULL, NULL, 'OM', 7000),
    (4, '99999999999', 1.00, 1, '2026-03-02 00:00:00', '2026-03-02 00:00:00', 1, true, 'X', 1)`);
  caPem = (await tdsTestCa()).caPem;
  peer = await TdsPeer.start({ db: client, certificate: await tdsTestCa(), datetimeColumns: ['DT_DERNIERE_MAJ'] });
});

afterEach(async () => {
  peer.inject({});
  // Cutting every live connection lets pools close at once, even one whose reply a fault left hanging.
  await peer.refuseConnections();
  await peer.acceptConnections();
  await Promise.all(pools.splice(0).map((p) => p.close().catch(() => undefined)));
});

afterAll(async () => {
  await peer?.close();
  await client?.end();
  await db?.drop();
});

/** A pool with production's settings: encrypt, the test CA trusted explicitly, never trustServerCertificate. */
function pool(overrides: Partial<sql.config> = {}): sql.ConnectionPool {
  const p = new sql.ConnectionPool({
    server: 'localhost', // a name, as in production: TLS checks it against the certificate (an IP is no SNI name)
    port: peer.port,
    database: 'SIC',
    user: 'samaconso_reader',
    password: randomBytes(12).toString('hex'),
    connectionTimeout: 5_000,
    requestTimeout: 5_000,
    pool: { max: 2, min: 0 },
    ...overrides,
    options: { encrypt: true, cryptoCredentialsDetails: { ca: caPem }, ...overrides.options },
  });
  p.on('error', () => undefined); // without it a socket killed mid-reply can crash the process (FACTS.md)
  pools.push(p);
  return p;
}

function sales(p: sql.ConnectionPool, n: number): Promise<sql.IResult<Record<string, unknown>>> {
  return p.request().input('n', sql.Int, n).input('meter', sql.NVarChar(20), '14250012345').query(SALES);
}

describe('TDS peer with the real mssql client', () => {
  it('logs in over TLS and runs a parameterised SELECT TOP (@n) from its own text, with typed rows', async () => {
    const p = await pool().connect();
    const result = await sales(p, 2);
    expect(result.recordset).toEqual([
      {
        NUMERO_COMMANDE: '9007199254740993',
        NUMERO_COMPTEUR: '14250012345',
        MONTANT_TTC: 5000.5,
        ENERGIE_VENDUE: 37.25,
        DATE_TRANSACTION: new Date('2026-03-01T08:30:00.125Z'),
        DT_DERNIERE_MAJ: new Date('2026-03-01T08:30:00.120Z'),
        ARRONDI: 3,
        PAYE: true,
        NOM_OPERATEUR: 'WAVE',
        MONTANT_RECU: null,
      },
      {
        NUMERO_COMMANDE: '2',
        NUMERO_COMPTEUR: '14250012345',
        MONTANT_TTC: -12.05,
        ENERGIE_VENDUE: 0.5,
        DATE_TRANSACTION: new Date('2026-02-01T10:00:00Z'),
        DT_DERNIERE_MAJ: new Date('2026-02-01T10:00:00Z'),
        ARRONDI: 0,
        PAYE: false,
        NOM_OPERATEUR: null,
        MONTANT_RECU: 1999.999,
      },
    ]);
    const columns = result.recordset.columns;
    expect(columns.NUMERO_COMMANDE!.type).toBe(sql.BigInt);
    expect(columns.NUMERO_COMPTEUR!.type).toBe(sql.NVarChar);
    expect([columns.MONTANT_TTC!.type, columns.MONTANT_TTC!.precision, columns.MONTANT_TTC!.scale]).toEqual([sql.Decimal, 12, 2]);
    expect(columns.ENERGIE_VENDUE!.type).toBe(sql.Float);
    expect([columns.DATE_TRANSACTION!.type, columns.DATE_TRANSACTION!.scale]).toEqual([sql.DateTime2, 3]);
    expect(columns.DT_DERNIERE_MAJ!.type).toBe(sql.DateTime);
    expect(columns.ARRONDI!.type).toBe(sql.Int);
    expect(columns.PAYE!.type).toBe(sql.Bit);
    expect(peer.stats.queries).toContain(SALES);
    expect(peer.stats.logins.at(-1)).toEqual({ userName: 'samaconso_reader', database: 'SIC', encrypted: true });
  });

  it('decodes typed parameters (datetime2, datetime, decimal, bigint, bit) and a PLP statement above 4000 characters', async () => {
    const p = await pool().connect();
    const typed = await p
      .request()
      .input('since', sql.DateTime2(3), new Date('2026-02-01T10:00:00Z'))
      .input('until', sql.DateTime, new Date('2026-03-01T08:30:00.127Z'))
      .input('min', sql.Decimal(12, 2), -20)
      .input('order', sql.BigInt, '9007199254740993')
      .input('paid', sql.Bit, true)
      .query(`SELECT [NUMERO_COMMANDE] FROM [HEXING_SENELECBILL_ALHDL2]
        WHERE [DATE_TRANSACTION] >= @since AND [DATE_TRANSACTION] <= @until AND [MONTANT_TTC] > @min
        AND ([NUMERO_COMMANDE] = @order OR [PAYE] <> @paid) ORDER BY [NUMERO_COMMANDE]`);
    expect(typed.recordset.map((r) => r.NUMERO_COMMANDE)).toEqual(['2', '9007199254740993']);

    const meters = Array.from({ length: 400 }, (_, i) => `N'${String(i).padStart(11, '0')}'`).join(', ');
    const long = `SELECT [NUMERO_COMMANDE] FROM [HEXING_SENELECBILL_ALHDL2] WHERE [NUMERO_COMPTEUR] IN (${meters}, N'99999999999')`;
    expect(long.length).toBeGreaterThan(4000);
    const plp = await p.request().query(long);
    expect(plp.recordset).toEqual([{ NUMERO_COMMANDE: '4' }]);
    expect(peer.stats.queries).toContain(long);
  });

  it('runs a plain batch and DATE values too, and answers a text it cannot run with an ERROR naming the cause', async () => {
    const p = await pool().connect();
    const batch = await p.request().batch('SELECT TOP 1 [NUMERO_COMMANDE] FROM [HEXING_SENELECBILL_ALHDL2] ORDER BY [NUMERO_COMMANDE]');
    expect(batch.recordset).toEqual([{ NUMERO_COMMANDE: '2' }]);
    const date = await p.request().input('day', sql.Date, new Date('2026-03-01T00:00:00Z')).query('SELECT CAST(@day AS date) AS [DATFACT]');
    expect(date.recordset).toEqual([{ DATFACT: new Date('2026-03-01T00:00:00Z') }]);
    expect(date.recordset.columns.DATFACT!.type).toBe(sql.Date);
    await expect(p.request().query('SELECT [NO_SUCH_COLUMN] FROM [HEXING_SENELECBILL_ALHDL2]')).rejects.toMatchObject({
      code: 'EREQUEST',
      number: 50000,
      message: expect.stringMatching(/^TDS peer: column "NO_SUCH_COLUMN" does not exist/),
    });
    await expect(p.request().query('SELECT TOP 10 PERCENT [ARRONDI] FROM [HEXING_SENELECBILL_ALHDL2]')).rejects.toMatchObject({
      message: expect.stringMatching(/PERCENT/),
    });
  });

  it('a closed port: connect fails with ESOCKET', async () => {
    await peer.refuseConnections();
    await expect(pool().connect()).rejects.toMatchObject({ code: 'ESOCKET' });
  });

  it('a peer that accepts then hangs: connect fails with ETIMEOUT after connectionTimeout', async () => {
    peer.inject({ hang: true });
    const before = peer.stats.connections;
    await expect(pool({ connectionTimeout: 300 }).connect()).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(peer.stats.connections).toBeGreaterThan(before);
  });

  it('a peer that closes at once: connect fails with ESOCKET', async () => {
    peer.inject({ closeAtOnce: true });
    await expect(pool().connect()).rejects.toMatchObject({ code: 'ESOCKET' });
  });

  it('a peer that refuses encryption: tedious 19 logs in anyway, in clear (the product must refuse it itself)', async () => {
    peer.inject({ refuseEncryption: true });
    const p = await pool().connect();
    expect((await sales(p, 1)).recordset).toHaveLength(1);
    expect(peer.stats.logins.at(-1)).toMatchObject({ userName: 'samaconso_reader', encrypted: false });
  });

  it('a login error (18456): connect fails with ELOGIN carrying the server text', async () => {
    peer.inject({ loginError: LOGIN_FAILED });
    await expect(pool().connect()).rejects.toMatchObject({ code: 'ELOGIN', message: expect.stringContaining('Login failed') });
  });

  it('a deadlock (1205): the request fails with EREQUEST and .number 1205; the next one succeeds', async () => {
    const p = await pool().connect();
    peer.inject({ queryError: { error: DEADLOCK_VICTIM, times: 1 }, onlyStatements: /HEXING/ });
    await expect(sales(p, 1)).rejects.toMatchObject({ code: 'EREQUEST', number: 1205 });
    expect((await sales(p, 1)).recordset).toHaveLength(1);
  });

  it('a delayed first packet: requestTimeout fires, the ATTENTION is acknowledged and the connection serves on', async () => {
    const p = await pool({ requestTimeout: 200, pool: { max: 1, min: 0 } }).connect();
    peer.inject({ delayReplyMs: 60_000, onlyStatements: /HEXING/ });
    await expect(sales(p, 1)).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(peer.stats.attentions).toBeGreaterThan(0);
    peer.inject({});
    const connections = peer.stats.connections;
    expect((await sales(p, 1)).recordset).toHaveLength(1);
    expect(peer.stats.connections).toBe(connections);
  });

  it('a reply stalled half-way: rows arrive, requestTimeout never ends it, a cancel does', async () => {
    const p = await pool({ requestTimeout: 200 }).connect();
    peer.inject({ stallAfterRows: 1, onlyStatements: /HEXING/ });
    const request = p.request().input('n', sql.Int, 3).input('meter', sql.NVarChar(20), '14250012345');
    // Streaming shows the rows as they arrive; the request then reports through events, not a promise.
    request.stream = true;
    const rows: unknown[] = [];
    request.on('row', (r: unknown) => rows.push(r));
    let settled = false;
    const outcome = new Promise<string | undefined>((resolve) => {
      request.on('done', () => resolve('done'));
      request.on('error', (e: { code?: string }) => resolve(e.code));
    });
    void outcome.then(() => (settled = true));
    void request.query(SALES);
    await waitFor('the first row', () => rows.length === 1);
    // Ten times requestTimeout: tedious's timer covers only the first packet (tedious #1485).
    await new Promise((r) => setTimeout(r, 2_000));
    expect(settled).toBe(false);
    request.cancel();
    expect(await outcome).toBe('ECANCEL');
    expect(peer.stats.attentions).toBeGreaterThan(0);
  });

  it('a connection killed mid-reply: the rows sent arrive, the request fails (socket hang up), the process lives on', async () => {
    const p = await pool().connect();
    peer.inject({ killAfterRows: 1, onlyStatements: /HEXING/ });
    const request = p.request().input('n', sql.Int, 3).input('meter', sql.NVarChar(20), '14250012345');
    request.stream = true;
    const rows: unknown[] = [];
    request.on('row', (r: unknown) => rows.push(r));
    const failure = new Promise<unknown>((resolve) => request.on('error', resolve));
    void request.query(SALES);
    expect(await failure).toMatchObject({ name: 'RequestError', code: 'ECONNRESET', message: 'socket hang up' });
    expect(rows).toHaveLength(1);
    peer.inject({});
    expect((await sales(p, 1)).recordset).toHaveLength(1);
  });
});

describe('TDS peer on a raw socket (what the driver rarely shows)', () => {
  /** A plain TDS session: PRELOGIN without encryption, then a LOGIN7 whose names are all empty. */
  async function session(): Promise<{ socket: Socket; next: () => Promise<TdsMessage> }> {
    const socket = connect(peer.port, '127.0.0.1');
    const gatherer = new MessageGatherer();
    const inbox: TdsMessage[] = [];
    socket.on('data', (bytes: Buffer) => inbox.push(...gatherer.push(bytes)));
    const next = async (): Promise<TdsMessage> => waitFor('a reply message', () => inbox.shift());
    socket.write(encodePacket(PacketType.PRELOGIN, 0x01, 1, Buffer.from('01' + '0006' + '0001' + 'ff' + '00', 'hex')));
    const prelogin = await next();
    expect(prelogin.payload[prelogin.payload.readUInt16BE(6)]).toBe(2); // ENCRYPT_NOT_SUP: the client asked for none
    const login7 = Buffer.alloc(94);
    login7.writeUInt32LE(4096, 8);
    socket.write(encodePacket(PacketType.LOGIN7, 0x01, 1, login7));
    expect((await next()).payload.includes(Buffer.from([0xad]))).toBe(true);
    return { socket, next };
  }

  it('acknowledges an ATTENTION with nothing under way by a single DONE with the attention bit', async () => {
    const { socket, next } = await session();
    const attentions = peer.stats.attentions;
    socket.write(encodePacket(PacketType.ATTENTION, 0x01, 1, Buffer.alloc(0)));
    expect((await next()).payload.toString('hex')).toBe('fd' + '2000' + '0000' + '0000000000000000');
    expect(peer.stats.attentions).toBe(attentions + 1);
    expect(peer.stats.logins.at(-1)).toEqual({ userName: '', database: '', encrypted: false });
    socket.destroy();
  });

  it('answers a message the client abandoned (ignore bit) with a plain DONE, running nothing', async () => {
    const { socket, next } = await session();
    const queries = peer.stats.queries.length;
    socket.write(encodePacket(PacketType.RPC, 0x03, 1, Buffer.from('16000000', 'hex')));
    expect((await next()).payload.toString('hex')).toBe('fd' + '0000' + '0000' + '0000000000000000');
    expect(peer.stats.queries).toHaveLength(queries);
    socket.destroy();
  });
});
