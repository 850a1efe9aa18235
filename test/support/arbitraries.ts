// fast-check generators for HTTP property tests: realistic Senegalese numbers in the notations people type,
// PINs, names with accents and other scripts, device fields, and the junk a public API receives (arbitrary
// JSON, wrong types, strings at and over the limits, malformed JSON text, wrong content types, no body).
// Values that exist only once the test has set state up (a registered phone, the code the SMS sandbox
// recorded, the current PIN of an account) are `Late` placeholders, resolved when the request is sent.
import fc from 'fast-check';

/** A value known only when the request is sent; shown as `<label>` in counterexamples. */
export class Late<T = unknown> {
  constructor(
    readonly label: string,
    readonly resolve: () => T | Promise<T>,
  ) {}
  [fc.toStringMethod](): string {
    return `<${this.label}>`;
  }
}

/** Replaces every Late in a plain JSON-like value (objects and arrays) by what it resolves to now. */
export async function resolveLate(value: unknown): Promise<unknown> {
  if (value instanceof Late) return resolveLate(await value.resolve());
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await resolveLate(v));
    return out;
  }
  // fast-check builds records with or without a prototype
  const proto: unknown = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as object)) {
      // defineProperty: a generated "__proto__" key stays an own key, as JSON.parse would make it on the server
      Object.defineProperty(out, k, { value: await resolveLate(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Phone numbers

/** Mobile prefixes in Senegal (Expresso 70, Promobile 75, Free 76, Orange 77 and 78). */
export const SN_MOBILE_PREFIXES = ['70', '75', '76', '77', '78'] as const;

/** How people write a 9-digit Senegalese national number; every one of these parses to the same E.164. */
export const SN_NOTATIONS = {
  spaced: (d: string) => `${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 7)} ${d.slice(7)}`,
  compact: (d: string) => d,
  dashed: (d: string) => `${d.slice(0, 2)}-${d.slice(2, 5)}-${d.slice(5, 7)}-${d.slice(7)}`,
  dotted: (d: string) => `${d.slice(0, 2)}.${d.slice(2, 5)}.${d.slice(5, 7)}.${d.slice(7)}`,
  e164: (d: string) => `+221${d}`,
  e164Spaced: (d: string) => `+221 ${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 7)} ${d.slice(7)}`,
  e164Dashed: (d: string) => `+221-${d.slice(0, 2)}-${d.slice(2, 5)}-${d.slice(5, 7)}-${d.slice(7)}`,
  intl00: (d: string) => `00221${d}`,
  intl00Spaced: (d: string) => `00 221 ${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 7)} ${d.slice(7)}`,
  countryNoPlus: (d: string) => `221${d}`,
  countryNoPlusSpaced: (d: string) => `221 ${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 7)} ${d.slice(7)}`,
  parenthesised: (d: string) => `(+221) ${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 7)} ${d.slice(7)}`,
  noBreakSpaces: (d: string) => `${d.slice(0, 2)}\u00a0${d.slice(2, 5)}\u00a0${d.slice(5, 7)}\u00a0${d.slice(7)}`,
  padded: (d: string) => `  ${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 7)} ${d.slice(7)} `,
  telUri: (d: string) => `tel:+221${d}`,
  fullWidth: (d: string) => [...d].map((c) => String.fromCharCode(0xff10 + Number(c))).join(''),
} as const;
export type SnNotation = keyof typeof SN_NOTATIONS;
export const snNotation: fc.Arbitrary<SnNotation> = fc.constantFrom(...(Object.keys(SN_NOTATIONS) as SnNotation[]));

/** Writes an E.164 Senegalese number (+221 and 9 digits) in a notation. */
export function writeSn(e164: string, notation: SnNotation): string {
  return SN_NOTATIONS[notation](e164.slice(4));
}

/** A random mobile number, 9 national digits. Unbiased, so two runs rarely pick the same number. */
export const snMobileNational: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...SN_MOBILE_PREFIXES), fc.noBias(fc.integer({ min: 0, max: 9_999_999 })))
  .map(([p, n]) => `${p}${String(n).padStart(7, '0')}`);

/** A valid number as typed: mostly Senegalese mobiles in any notation, sometimes a landline or a foreign mobile. */
export const validPhone: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(snMobileNational, snNotation).map(([d, n]) => SN_NOTATIONS[n](d)) },
  { weight: 1, arbitrary: fc.noBias(fc.integer({ min: 0, max: 99_999 })).map((n) => `33 8${String(n).padStart(5, '0').slice(0, 2)} ${String(n).padStart(5, '0').slice(2, 4)} ${String(n).slice(-1)}0`) },
  { weight: 1, arbitrary: fc.noBias(fc.integer({ min: 0, max: 99_999_999 })).map((n) => `+336${String(n).padStart(8, '0')}`) },
);

/** Strings that are not phone numbers, or not within the field's 32 characters. */
export const invalidPhone: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '12', '77', '77 123 45', '77 123 45 678', '0771234567', '+221 (0) 77 123 45 67', '+221', '+', '00', 'abc', '77 abc 45 67', '+1 555 0100', '99 123 45 67', '+221 77 123 45 67 89 01 23 45 67 89', '٧٧١٢٣٤٥٦٧', '📞 77 123 45 67', '+221771234567\u0000'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.stringMatching(/^[0-9 +\-().]{0,40}$/),
  fc.constant(`${'7'.repeat(33)}`),
  fc.constant(` ${SN_NOTATIONS.spaced('771234567')}${' '.repeat(30)}`), // 33 characters: over the field's limit
);

// ---------------------------------------------------------------------------------------------------------
// PINs, names, device fields

export const validPin: fc.Arbitrary<string> = fc.stringMatching(/^[0-9]{4,6}$/);
export const invalidPin: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', '123', '1234567', '12a4', ' 1234', '1234 ', '١٢٣٤', '１２３４', '12.4', '-123', '1e34'),
  fc.integer({ min: 0, max: 999_999 }),
  fc.string({ maxLength: 12 }),
);
/** What a login or PIN check accepts: any string of 1 to 64 characters (the right one is a Late). */
export const anyPinAttempt: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: validPin },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }).filter((s) => s.length <= 64) },
  { weight: 1, arbitrary: fc.constantFrom('0'.repeat(64), 'é'.repeat(64), '😀'.repeat(32), '\u0000\u0000\u0000\u0000', '1234\u0000') },
);

const REAL_NAMES = [
  'Awa', 'Aïssatou', 'Ndèye', 'Fatou', 'Mamadou', 'Cheikh Ahmadou Bamba', 'Sokhna', 'Seynabou', 'Ousmane', 'Ibrahima',
  'Mariéme', 'Coumba', 'Déthié', 'Ngoné', 'Babacar', 'Khadidiatou', 'Abdou Aziz', 'Maïmouna', 'El Hadji', 'Thérèse',
  'Diop', 'Ndiaye', 'N’Diaye', "M'Bengue", 'Fall', 'Sow', 'Bâ', 'Kâ', 'Guèye', 'Mbaye', 'Diagne', 'Faye', 'Cissé',
  'Sarr', 'Thiam', 'Dièye', 'Sène', 'Wade-Diallo', 'Lô', 'Niang', 'Ñdéye', 'Ŋom', 'عائشة', 'محمد', 'José María',
  'Zoë', 'Łukasz', '李娜', 'Ольга', 'Ἀλέξανδρος', 'Nguyễn', '🌍 Awa', 'A', 'ß', 'Ǆ', 'e\u0301',
  // what the schema lets through although no one is called that: control characters, bidi overrides, markup
  'Awa\u0000', 'Fatou\u0007', '\u001b[31mDiop', 'Ndèye\r\nX-Injected: 1', 'Diop\u202egnp.exe', '<script>alert(1)</script>', "Robert'); DROP TABLE users;--", '\ud83d',
];
/** A name the schema accepts: 1 to 80 UTF-16 units once trimmed. */
const fitsName = (s: string) => s.trim().length >= 1 && s.trim().length <= 80;
export const validName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...REAL_NAMES) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter(fitsName) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).filter(fitsName) },
  { weight: 1, arbitrary: fc.constantFrom('é'.repeat(80), ` ${'a'.repeat(80)} `, '😀'.repeat(40), 'x'.repeat(80)) },
);
export const invalidName: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', '   ', '\t\n', 'x'.repeat(81), '😀'.repeat(41), 'é'.repeat(200)),
  fc.integer(),
  fc.constant(null),
);

const DEVICE_MODELS = [
  'Samsung Galaxy A14', 'Tecno Spark 10', 'itel A70', 'Infinix Hot 30', 'iPhone 13', 'Xiaomi Redmi Note 12', 'Huawei Y6 Prime', 'Chrome 126 (Windows)', 'Pixel 7a', 'Téléphone de Fatou',
  'Galaxy\u0000A14', 'Pixel\u001b[0m', 'Spark\r\n10',
];
export const PLATFORMS = ['android', 'ios', 'web'] as const;
export const validDeviceModel: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...DEVICE_MODELS) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 120 }).filter((s) => s.trim().length >= 1 && s.trim().length <= 120) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 120 }).filter((s) => s.trim().length >= 1 && s.trim().length <= 120) },
  { weight: 1, arbitrary: fc.constant('m'.repeat(120)) },
);
export const invalidDeviceModel: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom('', '  ', 'm'.repeat(121)), fc.integer(), fc.constant(null));
export const invalidPlatform: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom('Android', 'windows', 'IOS', '', 'android ', 'blackberry'), fc.integer(), fc.constant(null));

/** An FCM registration token as Firebase issues them (instance id, ':APA91b', base64url). */
export const fcmToken: fc.Arbitrary<string> = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), fc.stringMatching(/^[A-Za-z0-9_-]{134}$/))
  .map(([id, rest]) => `${id}:APA91b${rest}`);
/** A few tokens shared by every generator, so the same token shows up on several sessions. */
export const SHARED_PUSH_TOKENS = ['fcm-shared-token-1', 'fcm-shared-token-2', 'fcm-shared-token-3', 'fcm\u0000token'] as const;
export const validPushToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fcmToken },
  { weight: 3, arbitrary: fc.constantFrom(...SHARED_PUSH_TOKENS) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constant('t'.repeat(4096)) },
);
export const invalidPushToken: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom('', 't'.repeat(4097)), fc.integer(), fc.boolean(), fc.constant({}));

/** Device fields of a login: valid, with an optional push token. */
export const validDevice = fc.record(
  { deviceModel: validDeviceModel, platform: fc.constantFrom(...PLATFORMS), pushToken: validPushToken },
  { requiredKeys: ['deviceModel', 'platform'] },
);

export const validEmail: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('awa.diop@example.sn', 'fatou_ndiaye+conso@orange.sn', "o'brien@example.com", 'a@b.co', 'mamadou-ba@senelec.sn'),
  fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9_+-]{0,30}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.constantFrom('sn', 'com', 'org', 'fr')).map(([l, d, t]) => `${l}@${d}.${t}`),
);
export const invalidEmail: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', 'not-an-email', 'a@', '@b.sn', 'a@b', 'a..b@c.sn', `${'a'.repeat(250)}@b.sn`, 'awa diop@example.sn', 'é@é.sn'),
  fc.string({ maxLength: 30 }),
  fc.integer(),
);
export const sixDigits: fc.Arbitrary<string> = fc.stringMatching(/^[0-9]{6}$/);
export const invalidCode: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom('', '12345', '1234567', '12 34 56', 'abcdef', '١٢٣٤٥٦', ' 123456'), fc.integer({ min: 0, max: 999_999 }), fc.constant(null));

// ---------------------------------------------------------------------------------------------------------
// Junk

/** Any JSON value: fast-check's JSON values and `anything` restricted to what survives JSON. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue() },
  {
    weight: 2,
    arbitrary: fc.anything({ maxDepth: 3, withNullPrototype: true, withObjectString: true }).filter((v) => {
      try {
        return JSON.stringify(v) !== undefined;
      } catch {
        return false;
      }
    }),
  },
);
/** A value of the wrong type for most fields. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** A long string: at, just under and just over a limit, or far over it (multi-byte units too). */
export function longString(limit: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.constantFrom(limit - 1, limit, limit + 1, limit * 2, 10_000, 40_000, 70_000),
      fc.constantFrom('7', 'a', 'é', '😀', ' '),
    )
    .map(([n, unit]) => unit.repeat(Math.max(0, Math.ceil(n / unit.length))).slice(0, Math.max(0, n)));
}

/** Text that is not a JSON object or array, or not JSON at all. */
export const malformedJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{', '}', '{"phone":', "{'phone': '77 123 45 67'}", '{"a":1,}', '{"a":01}', 'NaN', 'undefined', '   ', 'null', 'true', '"text"', '123', '-0',
    '[1,2', '{"a":"\\x41"}', '{"a":"\u0000"}', '\u0000', '\uFEFF', '{"a" 1}', '{"a":1}{"b":2}', '{"phone":"77 123 45 67"} trailing',
    '{"a":"\\ud800"}', '{"__proto__":{"isAdmin":true}}x', '<xml/>', 'phone=771234567&pin=1234',
  ),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null').map((s) => s.slice(0, Math.max(1, s.length - 1))), // truncated JSON
  fc.integer({ min: 1_000, max: 30_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`), // deep nesting, under the size limit
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => `{"phone":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
);

export const JSON_CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/vnd.samaconso+json', 'application/problem+json'] as const;
export const WRONG_CONTENT_TYPES = [
  'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/xml', 'text/json',
  'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=x-unknown', 'application/octet-stream', '*/*',
  'application', 'application/json/extra', 'json', ';',
] as const;
export const CONTENT_ENCODINGS = ['gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown', 'gzip, gzip'] as const;

// ---------------------------------------------------------------------------------------------------------
// Request bodies

/** How a request body is sent. */
export type BodySpec =
  /** Serialised when sent (Late values resolved); `valid`: built by the route's valid generator and sent as JSON. */
  | { readonly kind: 'json'; readonly value: unknown; readonly contentType: string | null; readonly gzip?: boolean; readonly valid: boolean }
  | { readonly kind: 'raw'; readonly text: string; readonly contentType: string | null; readonly contentEncoding?: string }
  | { readonly kind: 'none'; readonly contentType: string | null };

export interface BodyShape {
  /** Bodies the route's schema accepts (Late values allowed). */
  readonly valid: fc.Arbitrary<Record<string, unknown>>;
  /** Per field: values that break it (a missing field is tried too, when `required` says it is). */
  readonly broken: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Fields the schema requires: deleting one breaks the body. */
  readonly required: readonly string[];
  /** Per field: its length limit, for the long-string cases. */
  readonly limits: Readonly<Record<string, number>>;
}

/**
 * Bodies for a route: about 60 % valid (plain JSON, another JSON media type, gzip-encoded, with unknown extra
 * fields), the rest half-valid (one field broken or missing), arbitrary JSON, wrong top-level types, long
 * strings at and over the limits, malformed JSON text, wrong content types and encodings, and no body.
 */
export function bodies(shape: BodyShape): fc.Arbitrary<BodySpec> {
  const json = (value: unknown, valid: boolean, contentType: string | null = 'application/json'): BodySpec => ({ kind: 'json', value, contentType, valid });
  const fields = Object.keys(shape.broken);
  const limited = Object.keys(shape.limits);
  const halfValid = fc
    .tuple(shape.valid, fc.constantFrom(...fields), fc.integer({ min: 0, max: 4 }))
    .chain(([body, field, n]) =>
      (n === 0 && shape.required.includes(field) ? fc.constant(undefined) : shape.broken[field]!).map((bad) => {
        const copy: Record<string, unknown> = { ...body };
        if (bad === undefined) delete copy[field];
        else copy[field] = bad;
        return json(copy, false);
      }),
    );
  const arms: Array<fc.WeightedArbitrary<BodySpec>> = [
    { weight: 44, arbitrary: shape.valid.map((v) => json(v, true)) },
    { weight: 4, arbitrary: fc.tuple(shape.valid, fc.constantFrom(...JSON_CONTENT_TYPES)).map(([v, t]) => json(v, true, t)) },
    { weight: 4, arbitrary: shape.valid.map((v): BodySpec => ({ kind: 'json', value: v, contentType: 'application/json', gzip: true, valid: true })) },
    {
      weight: 5,
      arbitrary: fc
        .tuple(shape.valid, fc.dictionary(fc.constantFrom('role', 'id', 'isAdmin', 'phoneVerified', 'agency', 'extra', 'x'), anyJson, { minKeys: 1, maxKeys: 3 }))
        .map(([v, extra]) => json({ ...extra, ...v }, true)),
    },
    { weight: 15, arbitrary: halfValid },
    { weight: 6, arbitrary: anyJson.map((v) => json(v, false)) },
    { weight: 3, arbitrary: wrongType.map((v) => json(v, false)) },
    { weight: 5, arbitrary: malformedJsonText.map((text): BodySpec => ({ kind: 'raw', text, contentType: 'application/json' })) },
    { weight: 4, arbitrary: fc.tuple(shape.valid, fc.constantFrom(...WRONG_CONTENT_TYPES, null)).map(([v, contentType]) => json(v, false, contentType)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.oneof(malformedJsonText, fc.constant('{}')), fc.constantFrom(...CONTENT_ENCODINGS))
        .map(([text, enc]): BodySpec => ({ kind: 'raw', text, contentType: 'application/json', contentEncoding: enc })),
    },
    { weight: 2, arbitrary: fc.constantFrom<BodySpec>({ kind: 'none', contentType: null }, { kind: 'none', contentType: 'application/json' }, { kind: 'raw', text: '', contentType: 'application/json' }) },
  ];
  if (limited.length) {
    arms.push({
      weight: 5,
      arbitrary: fc.tuple(shape.valid, fc.constantFrom(...limited)).chain(([v, field]) => longString(shape.limits[field]!).map((s) => json({ ...v, [field]: s }, false))),
    });
  }
  return fc.oneof(...arms);
}
