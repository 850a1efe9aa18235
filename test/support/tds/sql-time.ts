// Date and time of day as TDS counts them: days since 0001-01-01 or 1900-01-01, time since midnight.

const DAY_MS = 86_400_000;
const EPOCH_0001_MS = utcMs(1, 1, 1);
const EPOCH_1900_MS = utcMs(1900, 1, 1);

/** A moment split as SQL Server stores it; `nanos` keeps pg's microseconds that a Date would lose. */
export interface SqlMoment {
  /** Days since 0001-01-01 (proleptic Gregorian, UTC). */
  readonly days: number;
  /** Nanoseconds since midnight. */
  readonly nanos: bigint;
}

function utcMs(year: number, month: number, day: number): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to the 1900s.
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

const DAY_NANOS = 86_400n * 1_000_000_000n;

/**
 * Reads pg's text of a timestamp (`2024-03-01 08:30:00.123456`), of a timestamptz (`… +00`, `… -01:30`: brought to
 * UTC, as SQL Server has no zone to send) or an ISO string ending in Z.
 */
export function parseMoment(text: string): SqlMoment {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2})(?::?(\d{2}))?(?::(\d{2}))?)?$/.exec(text);
  if (!m) throw new Error(`not a timestamp the TDS peer can encode: ${text}`);
  let days = Math.round((utcMs(Number(m[1]), Number(m[2]), Number(m[3])) - EPOCH_0001_MS) / DAY_MS);
  const seconds = Number(m[4] ?? 0) * 3600 + Number(m[5] ?? 0) * 60 + Number(m[6] ?? 0);
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9] ?? 0) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0));
  let nanos = BigInt(seconds - offset) * 1_000_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
  while (nanos < 0n) {
    nanos += DAY_NANOS;
    days -= 1;
  }
  while (nanos >= DAY_NANOS) {
    nanos -= DAY_NANOS;
    days += 1;
  }
  return { days, nanos };
}

/** The moment as an ISO string (milliseconds, UTC): what the peer hands to pg for a date parameter. */
export function momentToIso(moment: SqlMoment): string {
  const ms = EPOCH_0001_MS + moment.days * DAY_MS + Number(moment.nanos / 1_000_000n);
  const iso = new Date(ms).toISOString();
  const micros = (moment.nanos / 1000n) % 1000n;
  // Microseconds survive in the text so a datetime2(6) parameter compares exactly in pg.
  return micros === 0n ? iso : `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/** Days since 1900-01-01 (may be negative), as DATETIME counts them. */
export function daysSince1900(moment: SqlMoment): number {
  return moment.days - Math.round((EPOCH_1900_MS - EPOCH_0001_MS) / DAY_MS);
}

export function daysSince0001(daysSince1900Value: number): number {
  return daysSince1900Value + Math.round((EPOCH_1900_MS - EPOCH_0001_MS) / DAY_MS);
}
