// Browsing the dead-letter queue takes nothing: once a browse has answered, every message it read is back in the
// queue, ready — so a replay or a second look right after finds them all (the broker returns a closed channel's
// unacknowledged messages asynchronously: answering before they are back lost them to whoever asked next).
import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { browseDeadLetters } from '../../src/adapters/broker/dead-letter-browser.js';
import { buildTopology, DEAD_LETTER_QUEUE, declareTopology } from '../../src/adapters/broker/topology.js';
import { createTestVhost, type TestVhost } from '../support/rabbitmq.js';

let vhost: TestVhost;
const MESSAGES = 200;

beforeAll(async () => {
  vhost = await createTestVhost();
  const conn = await amqp.connect(vhost.url);
  try {
    const ch = await conn.createConfirmChannel();
    await declareTopology(ch, buildTopology());
    for (let i = 0; i < MESSAGES; i++) ch.sendToQueue(DEAD_LETTER_QUEUE, Buffer.from(JSON.stringify({ jobId: 'j', batchNo: i, tokens: ['t'] })), { persistent: true, messageId: `m${i}` });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}, 30_000);
afterAll(async () => {
  await vhost?.delete();
});

it('leaves every message it read ready in the queue by the time it answers, browse after browse', async () => {
  const conn = await amqp.connect(vhost.url);
  try {
    const ch = await conn.createChannel();
    for (let round = 0; round < 10; round++) {
      const seen = await browseDeadLetters([vhost.url], MESSAGES);
      // All of them, each once (a returned message goes back in another order).
      expect(seen.map((d) => d.messageId).sort(), `read by browse ${round + 1}`).toEqual(Array.from({ length: MESSAGES }, (_, i) => `m${i}`).sort());
      expect((await ch.checkQueue(DEAD_LETTER_QUEUE)).messageCount, `ready right after browse ${round + 1}`).toBe(MESSAGES);
    }
  } finally {
    await conn.close();
  }
}, 60_000);
