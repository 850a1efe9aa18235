// A local server that speaks the utility's sendOneSMS envelope (the real gateway cannot run here): it follows
// a script of what to do with each call and records every call it got, the tests' independent witness.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SOAP_ACTION } from '../../src/adapters/sms/soap-gateway.js';

/** What the gateway does with one call; the last step of a script repeats. */
export type Step = 'ok' | 'busy' | 'refuse' | 'http-500' | 'reset' | 'hang' | 'fault-server' | 'fault-client' | 'refuse-echo';

export interface Call {
  readonly soapAction: string | undefined;
  readonly contentType: string | undefined;
  readonly telephone: string | undefined;
  readonly message: string | undefined;
}

const unescape = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const field = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescape(m[1]!) : undefined;
};

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>${body}</S:Body></S:Envelope>`;
const status = (code: string, text: string) =>
  envelope(`<ns2:sendOneSMSResponse xmlns:ns2="urn:SmsPro"><return><statusCode>${code}</statusCode><statusText>${text}</statusText></return></ns2:sendOneSMSResponse>`);
const fault = (code: string, text: string) => envelope(`<S:Fault><faultcode>S:${code}</faultcode><faultstring>${text}</faultstring></S:Fault>`);

export class FakeGateway {
  readonly calls: Call[] = [];
  private server: Server | undefined;
  url = '';

  /** @param soapAction the SOAPAction a well-formed call carries (anything else gets a Client fault). */
  constructor(
    private readonly script: Step[],
    private readonly soapAction = DEFAULT_SOAP_ACTION,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/smspro/ws`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(chunks).toString('utf8');
      const call: Call = {
        soapAction: req.headers.soapaction as string | undefined,
        contentType: req.headers['content-type'],
        telephone: field(xml, 'telephone'),
        message: field(xml, 'message'),
      };
      this.calls.push(call);
      const wellFormed = req.method === 'POST' && /<sms:sendOneSMS xmlns:sms="urn:SmsPro">/.test(xml) && call.soapAction === `"${this.soapAction}"`;
      const step = wellFormed ? this.script[Math.min(this.calls.length - 1, this.script.length - 1)]! : 'fault-client';
      const xmlReply = (code: number, body: string) => {
        res.writeHead(code, { 'content-type': 'text/xml; charset=utf-8' });
        res.end(body);
      };
      switch (step) {
        case 'ok':
          return xmlReply(200, status('0', 'Message envoyé'));
        case 'busy':
          return xmlReply(200, status('503', 'Service momentanément indisponible'));
        case 'refuse':
          return xmlReply(200, status('400', 'Numéro invalide'));
        case 'refuse-echo':
          // A gateway that echoes what it got: the text and the number must still stay out of the logs.
          return xmlReply(200, status('400', `Numéro ${call.telephone} invalide pour le message « ${call.message} »`));
        case 'http-500':
          res.writeHead(500, { 'content-type': 'text/plain' });
          return void res.end('Internal Server Error');
        case 'reset':
          return void req.socket.destroy();
        case 'hang':
          return; // never answers
        case 'fault-server':
          return xmlReply(500, fault('Server', 'Backend SMSC indisponible'));
        case 'fault-client':
          return xmlReply(500, fault('Client', 'Requête invalide'));
      }
    });
  }
}
