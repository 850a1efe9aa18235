// The client of the utility's SMS web service (Orange SMS Pro style, SOAP 1.1): sendOneSMS(telephone, message).
// TLS verification stays on: a private CA is trusted through NODE_EXTRA_CA_CERTS, never by disabling checks.
import { AppError } from '../../errors/app-error.js';

export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

export interface SoapGatewayOptions {
  /** The service endpoint (http or https). */
  readonly url: string;
  /** Bound on one call, connection to last byte. */
  readonly timeoutMs: number;
  /** The WSDL's targetNamespace, which qualifies the operation element. @defaultValue DEFAULT_SOAP_NAMESPACE */
  readonly namespace?: string;
  /** The operation's soapAction from the WSDL, sent quoted in the SOAPAction header. @defaultValue 'sendOneSMS' */
  readonly soapAction?: string;
  /** Answers longer than this are refused unread. @defaultValue 65_536 */
  readonly maxResponseBytes?: number;
}

/** Placeholder until the utility's WSDL is at hand: set `namespace` to its targetNamespace. */
export const DEFAULT_SOAP_NAMESPACE = 'urn:SmsPro';
export const DEFAULT_SOAP_ACTION = 'sendOneSMS';

/**
 * What one call came to; never a rejection (the caller decides what to retry):
 * - sent: statusCode 0, 200, 201, 202;
 * - refused: statusCode 4xx other than 401, 403, 408, 429 (bad or unknown number, barred, too long): never retried;
 * - temporary: statusCode 408, 429, 5xx; HTTP 5xx, 408, 429; a SOAP Server fault; connection errors; timeouts —
 *   `maybeDelivered` when the request may have reached the gateway (a timeout, a connection dropped mid-call: the SMS
 *   may still go out; a refused or unresolvable connection never sent anything);
 * - failed: anything else (statusCode 401/403: the gateway refuses us, not the number; an unknown or non-numeric
 *   code, a SOAP Client fault, HTTP 3xx/4xx, an unreadable or oversized answer). Not retried: a retry would change
 *   nothing, or might send the text twice.
 */
export type GatewayOutcome =
  | { readonly kind: 'sent'; readonly statusCode: string; readonly statusText: string }
  | { readonly kind: 'refused'; readonly statusCode: string; readonly statusText: string }
  | { readonly kind: 'temporary'; readonly reason: string; readonly statusCode?: string; readonly retryAfterMs?: number; readonly maybeDelivered?: true }
  | { readonly kind: 'failed'; readonly reason: string; readonly statusCode?: string; readonly maybeDelivered?: true };

export type StatusClass = 'sent' | 'refused' | 'temporary' | 'failed';

const SENT_CODES = new Set([0, 200, 201, 202]);
const TEMPORARY_4XX = new Set([408, 429]);
const REFUSING_US = new Set([401, 403]);

/** What a gateway status code means (see the table at the top of this file). */
export function classifyStatus(code: string): StatusClass {
  const trimmed = code.trim();
  if (!/^-?\d{1,6}$/.test(trimmed)) return 'failed';
  const n = Number(trimmed);
  if (SENT_CODES.has(n)) return 'sent';
  if (TEMPORARY_4XX.has(n) || (n >= 500 && n <= 599)) return 'temporary';
  if (REFUSING_US.has(n)) return 'failed';
  if (n >= 400 && n <= 499) return 'refused';
  return 'failed';
}

/** The phone as the gateway takes it: E.164 without the '+' (e.g. 221771234567). */
export function gatewayPhone(e164: string): string {
  return e164.startsWith('+') ? e164.slice(1) : e164;
}

// XML 1.0 forbids these characters even escaped; they would turn the envelope into a Client fault.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlEscape(value: string): string {
  return value
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Document/literal, as a JAX-WS or ASMX service expects it: POST <url>, `Content-Type: text/xml; charset=utf-8`,
 * `SOAPAction: "<soapAction>"`, `<sms:sendOneSMS xmlns:sms="<namespace>"><telephone>…</telephone><message>…</message>`
 * in a SOAP 1.1 body. The answer is read for the first `statusCode` and `statusText` elements, whatever their prefix.
 */
export function sendOneSmsEnvelope(telephone: string, message: string, namespace = DEFAULT_SOAP_NAMESPACE): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS}">` +
    '<soap:Body>' +
    `<sms:sendOneSMS xmlns:sms="${xmlEscape(namespace)}">` +
    `<telephone>${xmlEscape(telephone)}</telephone>` +
    `<message>${xmlEscape(message)}</message>` +
    '</sms:sendOneSMS>' +
    '</soap:Body>' +
    '</soap:Envelope>'
  );
}

const NAME_PREFIX = '(?:[A-Za-z_][\\w.-]*:)?';

/**
 * The text of the first element with this local name (any prefix, case-insensitive), entities decoded;
 * '' for an empty or self-closing element, undefined when absent. Enough for the flat answers of this
 * service; no DTD is ever read (answers declaring one are refused before this runs).
 */
export function elementText(xml: string, localName: string): string | undefined {
  const re = new RegExp(`<${NAME_PREFIX}${localName}(?:\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</${NAME_PREFIX}${localName}\\s*>)`, 'i');
  const m = re.exec(xml);
  if (!m) return undefined;
  return decodeXmlText(m[1] ?? '');
}

function decodeXmlText(raw: string): string {
  // CDATA content is literal; everything else has its entities decoded.
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) =>
      part.startsWith('<![CDATA[')
        ? part.slice(9, -3)
        : part.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
            switch (e) {
              case 'lt':
                return '<';
              case 'gt':
                return '>';
              case 'amp':
                return '&';
              case 'quot':
                return '"';
              case 'apos':
                return "'";
              default: {
                const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
                return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
              }
            }
          }),
    )
    .join('')
    .trim();
}

export type ParsedAnswer =
  | { readonly kind: 'status'; readonly statusCode: string; readonly statusText: string }
  | { readonly kind: 'fault'; readonly faultCode: string; readonly faultString: string }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** Reads a sendOneSMS answer: its status, a SOAP Fault, or why it cannot be read. */
export function parseSendOneSmsAnswer(xml: string): ParsedAnswer {
  // SOAP 1.1 §3: a SOAP message must not contain a document type declaration.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { kind: 'unreadable', reason: 'the answer declares a DTD' };
  if (!new RegExp(`<${NAME_PREFIX}Envelope[\\s>]`, 'i').test(xml)) return { kind: 'unreadable', reason: 'the answer is not a SOAP envelope' };
  if (elementText(xml, 'Fault') !== undefined) {
    return { kind: 'fault', faultCode: elementText(xml, 'faultcode') ?? '', faultString: elementText(xml, 'faultstring') ?? '' };
  }
  const statusCode = elementText(xml, 'statusCode');
  if (statusCode === undefined || statusCode === '') return { kind: 'unreadable', reason: 'the answer has no statusCode' };
  return { kind: 'status', statusCode, statusText: elementText(xml, 'statusText') ?? '' };
}

/** The gateway's answer is longer than we read: treated as a failed send, never parsed. */
class AnswerTooLargeError extends AppError {
  readonly code = 'SMS_GATEWAY_ANSWER_TOO_LARGE';
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLargeError(`the answer is longer than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Retry-After in seconds (the HTTP-date form is ignored), capped at five minutes. */
function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (!v || !/^\d+$/.test(v.trim())) return undefined;
  return Math.min(Number(v.trim()) * 1_000, 300_000);
}

/** Connection errors raised before any byte of the request left: the gateway cannot have sent the SMS. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A transport failure as a temporary outcome; anything but a connection that never opened may have delivered. */
function transportFailure(error: unknown, timeoutMs: number): GatewayOutcome {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | null;
  if (e?.name === 'TimeoutError') return { kind: 'temporary', reason: `no answer within ${timeoutMs} ms`, maybeDelivered: true };
  const cause = e?.cause;
  const reason = `connection failed (${cause?.code ?? cause?.message ?? e?.message ?? String(error)})`;
  return cause?.code && NEVER_SENT.has(cause.code) ? { kind: 'temporary', reason } : { kind: 'temporary', reason, maybeDelivered: true };
}

export class SoapSmsGateway {
  private readonly namespace: string;
  private readonly soapAction: string;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: SoapGatewayOptions) {
    this.namespace = options.namespace ?? DEFAULT_SOAP_NAMESPACE;
    this.soapAction = options.soapAction ?? DEFAULT_SOAP_ACTION;
    this.maxResponseBytes = options.maxResponseBytes ?? 65_536;
  }

  /**
   * One call of sendOneSMS. Never rejects: every result is a GatewayOutcome. Texts that come back from
   * the gateway (status text, fault string) are scrubbed of the message and the phone before they are
   * returned, since they end up in logs. `signal` aborts the call (the actor stopping).
   */
  async sendOneSMS(telephoneE164: string, message: string, signal?: AbortSignal): Promise<GatewayOutcome> {
    const telephone = gatewayPhone(telephoneE164);
    const scrub = (s: string) => scrubbed(s, [message, telephone]);
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let res: Response;
    let body: string;
    try {
      res = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${this.soapAction}"`, accept: 'text/xml' },
        body: sendOneSmsEnvelope(telephone, message, this.namespace),
        // A redirected POST would turn into a GET: a moved endpoint is a configuration problem.
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      body = await readBounded(res, this.maxResponseBytes);
    } catch (error) {
      if (error instanceof AnswerTooLargeError) return { kind: 'failed', reason: error.message };
      if (signal?.aborted) return { kind: 'failed', reason: 'aborted', maybeDelivered: true };
      return transportFailure(error, this.options.timeoutMs);
    }

    const answer = parseSendOneSmsAnswer(body);
    if (answer.kind === 'fault') {
      const reason = `SOAP fault ${answer.faultCode || '(no faultcode)'}: ${scrub(answer.faultString)}`;
      // SOAP 1.1 fault codes: Server (try again later) vs Client (our request is wrong; retrying changes nothing).
      return /(^|:)Server(\.|$)/i.test(answer.faultCode) ? { kind: 'temporary', reason, ...withRetryAfter(res) } : { kind: 'failed', reason };
    }
    if (res.status < 200 || res.status > 299) {
      const reason = `HTTP ${res.status}`;
      return res.status >= 500 || TEMPORARY_4XX.has(res.status) ? { kind: 'temporary', reason, ...withRetryAfter(res) } : { kind: 'failed', reason };
    }
    if (answer.kind === 'unreadable') return { kind: 'failed', reason: answer.reason };

    const statusText = scrub(answer.statusText);
    const statusCode = answer.statusCode;
    switch (classifyStatus(statusCode)) {
      case 'sent':
        return { kind: 'sent', statusCode, statusText };
      case 'refused':
        return { kind: 'refused', statusCode, statusText };
      case 'temporary':
        return { kind: 'temporary', statusCode, reason: `gateway status ${statusCode} ${statusText}`.trim(), ...withRetryAfter(res) };
      case 'failed':
        return { kind: 'failed', statusCode, reason: `gateway status ${statusCode} ${statusText}`.trim() };
    }
  }
}

function withRetryAfter(res: Response): { retryAfterMs?: number } {
  const ms = retryAfterMs(res);
  return ms === undefined ? {} : { retryAfterMs: ms };
}

/** Removes secrets a gateway may echo back (the text carries one-time codes), and bounds the length. */
function scrubbed(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('[redacted]');
  return out.length > 200 ? `${out.slice(0, 200)}…` : out;
}
