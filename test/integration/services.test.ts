import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, redisPing, servicesEnv, startPrivateRedis } from '../support/services.js';

const run = promisify(execFile);

/** Sends the AMQP 0-9-1 protocol header and returns the broker's first frame. */
function amqpFirstFrame(url: string): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer from the AMQP port within 5 s')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      // Frame = type(1) channel(2) size(4) payload(size) end(1).
      if (received.length >= 7 && received.length >= 8 + received.readUInt32BE(3)) {
        socket.destroy();
        resolve(received);
      }
    });
  });
}

describe('services started by ops/services.sh', () => {
  it('postgres answers SELECT 1', async () => {
    const client = new pg.Client({ connectionString: servicesEnv().TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0]?.one).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('a test database is cloned from the migrated template', async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ queue: string }>("SELECT queue FROM notification_types WHERE code = 'outage'");
      expect(rows[0]?.queue).toBe('urgent');
    } finally {
      await client.end();
      await db.drop();
    }
  });

  it('redis answers PING', async () => {
    const redis = new Redis(servicesEnv().TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('rabbitmq answers the AMQP 0-9-1 header with Connection.Start', async () => {
    const frame = await amqpFirstFrame(servicesEnv().TEST_AMQP_URL);
    expect(frame.readUInt8(0)).toBe(1); // method frame
    expect(frame.readUInt16BE(1)).toBe(0); // channel 0
    expect(frame.readUInt16BE(7)).toBe(10); // class connection
    expect(frame.readUInt16BE(9)).toBe(10); // method start
    expect([frame.readUInt8(11), frame.readUInt8(12)]).toEqual([0, 9]); // protocol 0-9
  });

  it('s3rver answers and holds the test bucket', async () => {
    const env = servicesEnv();
    const response = await fetch(`${env.TEST_S3_ENDPOINT}/${env.TEST_S3_BUCKET}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`<Name>${env.TEST_S3_BUCKET}</Name>`);
  });

  it('ldap: the service account finds the agent and its agency', async () => {
    const env = servicesEnv();
    const { stdout } = await run('ldapsearch', ['-x', '-LLL', '-H', env.TEST_LDAP_URL, '-D', env.TEST_LDAP_BIND_DN,
      '-w', env.TEST_LDAP_BIND_PASSWORD, '-b', env.TEST_LDAP_BASE_DN, `uid=${env.TEST_LDAP_AGENT_UID}`, 'departmentNumber']);
    expect(stdout).toContain(`dn: uid=${env.TEST_LDAP_AGENT_UID},ou=agents,${env.TEST_LDAP_BASE_DN}`);
    expect(stdout).toMatch(new RegExp(`^departmentNumber: ${env.TEST_LDAP_AGENT_AGENCY}$`, 'm'));
  });

  it('ldap: an anonymous search sees nothing, not even the base', async () => {
    const env = servicesEnv();
    const search = run('ldapsearch', ['-x', '-LLL', '-H', env.TEST_LDAP_URL, '-b', env.TEST_LDAP_BASE_DN,
      `uid=${env.TEST_LDAP_AGENT_UID}`]);
    await expect(search).rejects.toMatchObject({ code: 32, stdout: '' }); // 32: noSuchObject
  });

  it('a private redis can be killed and started again on the same port', async () => {
    const redis = await startPrivateRedis();
    try {
      expect(await redisPing(redis.port)).toBe(true);
      await redis.kill();
      expect(await redisPing(redis.port)).toBe(false);
      await redis.start();
      expect(await redisPing(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await redisPing(redis.port)).toBe(false);
  });
});
