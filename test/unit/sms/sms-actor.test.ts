import { describe, expect, it } from 'vitest';
import { smsActor, type SmsOptions } from '../../../actors/resources/sms-actor.js';
import type { SmsMessage } from '../../../src/contracts/sms-messages.js';
import { actor, supervisor } from '../../../supervisors/child-spec.js';
import { testRuntime } from '../../support/supervision.js';

async function startSms(options: SmsOptions) {
  const t = testRuntime();
  await t.runtime.start(supervisor({ name: 'root', children: [actor({ name: 'sms', behaviour: smsActor(options) })] }));
  // The manual clock never moves here: a rejection is the actor's own reply, never a deadline.
  const send = (to: string, text: string) => t.runtime.ask<SmsMessage, 'send'>('sms', 'send', { to, text }, 60_000);
  const outbox = (to?: string) => t.runtime.ask<SmsMessage, 'sandbox-outbox'>('sms', 'sandbox-outbox', to === undefined ? {} : { to }, 60_000);
  return { ...t, send, outbox };
}

describe('sms actor (sandbox)', () => {
  it('records a sent message in the outbox, with its id and the clock time', async () => {
    const { runtime, send, outbox, clock } = await startSms({ transport: 'sandbox' });
    const { id } = await send('+221771234567', 'Votre code SamaConso : 482913');
    expect(await outbox()).toEqual([{ id, to: '+221771234567', text: 'Votre code SamaConso : 482913', at: new Date(clock.now()).toISOString() }]);
    expect(runtime.tree().children![0]!.stats.state).toBe('running');
    await runtime.stop();
  });

  it('filters the outbox by phone', async () => {
    const { runtime, send, outbox } = await startSms({ transport: 'sandbox' });
    await send('+221771234567', 'one');
    await send('+221781112233', 'two');
    await send('+221771234567', 'three');
    expect((await outbox('+221771234567')).map((s) => s.text)).toEqual(['one', 'three']);
    expect((await outbox('+221781112233')).map((s) => s.text)).toEqual(['two']);
    expect(await outbox('+221700000000')).toEqual([]);
    expect(await outbox()).toHaveLength(3);
    await runtime.stop();
  });

  it('keeps only the most recent messages', async () => {
    const { runtime, send, outbox } = await startSms({ transport: 'sandbox', capacity: 2 });
    for (const text of ['a', 'b', 'c']) await send('+221771234567', text);
    expect((await outbox()).map((s) => s.text)).toEqual(['b', 'c']);
    await runtime.stop();
  });

  it('refuses a phone not in E.164 and an empty text, naming each field', async () => {
    const { runtime, send, outbox } = await startSms({ transport: 'sandbox' });
    await expect(send('771234567', ' ')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [expect.objectContaining({ path: 'to' }), expect.objectContaining({ path: 'text' })],
    });
    expect(await outbox()).toEqual([]);
    await runtime.stop();
  });

  it('answers the outbox only in sandbox mode', async () => {
    const { runtime, outbox } = await startSms({ transport: 'gateway', url: 'http://127.0.0.1:9/ws', timeoutMs: 100 });
    await expect(outbox()).rejects.toMatchObject({ code: 'SMS_SANDBOX_ONLY' });
    await runtime.stop();
  });
});
