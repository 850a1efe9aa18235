// The SOAP transport of the SMS actor against a local server that speaks the sendOneSMS envelope
// (the utility's gateway cannot run here). Real clock, small backoff; waits on replies, never on sleeps.
import { afterEach, describe, expect, it } from 'vitest';
import { smsActor } from '../../actors/resources/sms-actor.js';
import { SystemClock } from '../../src/clock.js';
import type { SmsMessage } from '../../src/contracts/sms-messages.js';
import { createLogger } from '../../src/logger.js';
import { actor, supervisor } from '../../supervisors/child-spec.js';
import { Runtime } from '../../supervisors/runtime.js';
import { FakeGateway, type Step } from '../support/fake-sms-gateway.js';

const PHONE = '+221771234567';
const SOAP_ACTION = 'urn:SmsPro#sendOneSMS';

let gateway: FakeGateway | undefined;
let runtime: Runtime | undefined;
let logLines: string[] = [];

afterEach(async () => {
  await runtime?.stop();
  await gateway?.stop();
  runtime = undefined;
  gateway = undefined;
});

async function start(script: Step[], options: { attempts?: number; timeoutMs?: number } = {}) {
  gateway = new FakeGateway(script, SOAP_ACTION);
  await gateway.start();
  logLines = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  runtime = new Runtime({ clock: new SystemClock(), log });
  await runtime.start(
    supervisor({
      name: 'root',
      children: [
        actor({
          name: 'sms',
          behaviour: smsActor({
            transport: 'gateway',
            url: gateway.url,
            timeoutMs: options.timeoutMs ?? 2_000,
            attempts: options.attempts ?? 3,
            retry: { minMs: 10, maxMs: 20, jitter: 0 },
            soapAction: SOAP_ACTION,
          }),
        }),
      ],
    }),
  );
  const rt = runtime;
  const send = (text: string, to = PHONE) => rt.ask<SmsMessage, 'send'>('sms', 'send', { to, text }, 20_000);
  const stats = () => rt.tree().children![0]!.stats;
  return { gateway, send, stats };
}

/** The text must never be logged, nor the whole phone number; the masked number must be. */
function expectLogsClean(secrets: string[]): void {
  const all = logLines.join('');
  expect(logLines.length).toBeGreaterThan(0);
  for (const s of secrets) expect(all).not.toContain(s);
  expect(all).not.toContain('771234567');
  expect(all).toContain('***567');
}

describe('sms actor over the SOAP gateway', () => {
  it('sends one SMS: the envelope carries the phone without + and the escaped text, the reply its id', async () => {
    const { gateway, send, stats } = await start(['ok']);
    const text = `Code <SamaConso> & "vous" : 583920 — l'été`;
    const { id } = await send(text);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(gateway.calls).toEqual([{ soapAction: `"${SOAP_ACTION}"`, contentType: 'text/xml; charset=utf-8', telephone: '221771234567', message: text }]);
    expect(stats().state).toBe('running');
    expectLogsClean([text, '583920']);
  });

  it('retries transport errors (HTTP 500, connection reset) and then succeeds', async () => {
    const { gateway, send, stats } = await start(['http-500', 'reset', 'ok']);
    await expect(send('Code 104857')).resolves.toMatchObject({ id: expect.any(String) });
    expect(gateway.calls).toHaveLength(3);
    expect(stats().state).toBe('running');
    expectLogsClean(['104857']);
  });

  it('fails with SMS_UNAVAILABLE after the last attempt, shows backing-off, and is running again after a success', async () => {
    const { gateway, send, stats } = await start(['busy', 'fault-server', 'http-500', 'ok']);
    await expect(send('Code 662211')).rejects.toMatchObject({ code: 'SMS_UNAVAILABLE' });
    expect(gateway.calls).toHaveLength(3);
    expect(stats()).toMatchObject({ state: 'backing-off', crashes: 0, restarts: 0, lastError: { code: 'SMS_UNAVAILABLE' } });
    expect(stats().detail).toContain('HTTP 500');

    await expect(send('Code 662212')).resolves.toMatchObject({ id: expect.any(String) });
    expect(gateway.calls).toHaveLength(4);
    expect(stats().state).toBe('running');
    expectLogsClean(['662211', '662212']);
  });

  it('answers a definitive refusal with SMS_REJECTED at once, without retrying', async () => {
    const { gateway, send, stats } = await start(['refuse', 'ok']);
    await expect(send('Code 300400')).rejects.toMatchObject({ code: 'SMS_REJECTED', statusCode: '400' });
    expect(gateway.calls).toHaveLength(1);
    expect(stats().state).toBe('running'); // the gateway answered: a bad number is no outage
    expectLogsClean(['300400']);
  });

  it('does not retry a SOAP Client fault (our request is wrong) and reports SMS_UNAVAILABLE', async () => {
    const { gateway, send, stats } = await start(['fault-client']);
    await expect(send('Code 777001')).rejects.toMatchObject({ code: 'SMS_UNAVAILABLE' });
    expect(gateway.calls).toHaveLength(1);
    expect(stats().state).toBe('backing-off');
    expectLogsClean(['777001']);
  });

  it('handles a hung gateway with its timeout: every attempt times out and the actor replies SMS_DELIVERY_UNKNOWN (the SMS may still arrive)', async () => {
    const { gateway, send, stats } = await start(['hang'], { attempts: 2, timeoutMs: 150 });
    const error = await send('Code 909090').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMS_DELIVERY_UNKNOWN', message: expect.stringContaining('no answer within 150 ms') });
    expect(gateway.calls).toHaveLength(2);
    expect(stats().state).toBe('backing-off');
    expectLogsClean(['909090']);
  });

  it('keeps the text and the number out of the logs even when the gateway echoes them', async () => {
    const text = 'Votre code de vérification SamaConso est 246813';
    const { send } = await start(['refuse-echo']);
    const error = await send(text).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SMS_REJECTED' });
    expect((error as Error).message).not.toContain('246813');
    expect(logLines.some((l) => l.includes('SMS refused by the gateway'))).toBe(true);
    expectLogsClean([text, '246813']);
  });
});
