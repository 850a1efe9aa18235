// T-SQL text → PostgreSQL text, by a small scanner over exactly the constructs the product's queries use.

export interface Translation {
  readonly text: string;
  /** Parameter names (without @) in $n order: names[0] is $1. */
  readonly names: readonly string[];
}

export class UnsupportedTsqlError extends Error {}

const WORD = /[A-Za-z_][A-Za-z0-9_$#]*/y;

// Table hints only steer SQL Server's locking; PostgreSQL takes its own locks, so they are dropped.
const TABLE_HINTS = /^\(\s*(?:NOLOCK|UPDLOCK|HOLDLOCK|ROWLOCK|READPAST|READCOMMITTED|SERIALIZABLE)(?:\s*,\s*(?:NOLOCK|UPDLOCK|HOLDLOCK|ROWLOCK|READPAST|READCOMMITTED|SERIALIZABLE))*\s*\)/i;

// Date parts SQL Server returns as int; pg's EXTRACT returns numeric, hence the cast.
const DATE_PARTS = new Set(['YEAR', 'MONTH', 'DAY']);

/**
 * Supported: [bracketed names] → "quoted" (case kept), a `dbo.` schema prefix dropped (the twins live in the
 * connection's search_path), N'…' literals → '…', @name parameters → $n (one number per name), one `TOP (expr)` /
 * `TOP n` per text → `LIMIT expr` at its end, ISNULL( → COALESCE(, YEAR/MONTH/DAY(x) → EXTRACT(… FROM x)::int,
 * DATEFROMPARTS( → make_date(, table hints (WITH (NOLOCK), WITH (UPDLOCK, HOLDLOCK), …) and `--` comments dropped.
 * Date functions read the pg session's time zone: the peer's connection runs in UTC, as the sources' datetimes
 * hold Dakar time, which is UTC all year. The rest
 * passes through unchanged (OFFSET … ROWS FETCH NEXT … ROWS ONLY, ORDER BY, CASE, CAST, IN read the same in pg);
 * a text pg cannot run comes back to the client as an ERROR token naming pg's complaint.
 * `castOf(name)` gives a parameter's pg type, written as `$n::type` at each use: SQL Server types a parameter by its
 * declaration, pg by its context, which is ambiguous or contradictory in `SELECT @a … WHERE [col] = @a`.
 * @throws UnsupportedTsqlError for two TOPs, TOP … PERCENT / WITH TIES, unterminated strings or brackets.
 */
export function translateTsql(tsql: string, castOf: (name: string) => string | undefined = () => undefined): Translation {
  const names: string[] = [];
  const out: string[] = [];
  let limit: string | undefined;
  // What each open parenthesis closes with: `)`, or `)::int` after a date part's EXTRACT.
  const closers: string[] = [];
  let i = 0;
  const peekWord = (at: number): string | undefined => {
    WORD.lastIndex = at;
    return WORD.exec(tsql)?.[0];
  };
  const skipSpace = (at: number): number => {
    while (at < tsql.length && /\s/.test(tsql[at]!)) at++;
    return at;
  };
  const parameter = (name: string): string => {
    const key = name.toLowerCase();
    let index = names.findIndex((n) => n.toLowerCase() === key);
    if (index < 0) index = names.push(name) - 1;
    const cast = castOf(name);
    return cast ? `$${index + 1}::${cast}` : `$${index + 1}`;
  };

  while (i < tsql.length) {
    const c = tsql[i]!;
    if (c === "'" || ((c === 'N' || c === 'n') && tsql[i + 1] === "'" && !/[A-Za-z0-9_]/.test(tsql[i - 1] ?? ''))) {
      const start = c === "'" ? i : i + 1;
      const end = endOfString(tsql, start);
      out.push(tsql.slice(start, end));
      i = end;
    } else if (c === '-' && tsql[i + 1] === '-') {
      const end = tsql.indexOf('\n', i);
      i = end < 0 ? tsql.length : end;
    } else if (c === '[') {
      const { name, end } = bracketed(tsql, i);
      if (name.toLowerCase() === 'dbo' && tsql[end] === '.') i = end + 1;
      else {
        out.push(`"${name.replace(/"/g, '""')}"`);
        i = end;
      }
    } else if (c === '@' && tsql[i + 1] === '@') {
      // A system function (@@ROWCOUNT), not a parameter: kept as written.
      const name = peekWord(i + 2) ?? '';
      out.push(`@@${name}`);
      i += 2 + name.length;
    } else if (c === '@') {
      const name = peekWord(i + 1);
      if (!name) throw new UnsupportedTsqlError(`a lone @ at ${i}`);
      out.push(parameter(name));
      i += 1 + name.length;
    } else if (/[A-Za-z_]/.test(c) && !/[A-Za-z0-9_$#"\]]/.test(tsql[i - 1] ?? '')) {
      const word = peekWord(i)!;
      const upper = word.toUpperCase();
      const next = skipSpace(i + word.length);
      if (upper === 'DBO' && tsql[i + word.length] === '.') {
        i += word.length + 1;
      } else if (upper === 'TOP') {
        if (limit !== undefined) throw new UnsupportedTsqlError('more than one TOP in one text');
        const taken = topExpression(tsql, next);
        limit = taken.expression.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_m, n: string) => parameter(n));
        i = skipSpace(taken.end);
      } else if (upper === 'ISNULL' && tsql[next] === '(') {
        out.push('COALESCE');
        i += word.length;
      } else if (DATE_PARTS.has(upper) && tsql[next] === '(') {
        out.push(`EXTRACT(${upper} FROM `);
        closers.push(')::int');
        i = next + 1;
      } else if (upper === 'DATEFROMPARTS' && tsql[next] === '(') {
        out.push('make_date');
        i += word.length;
      } else if (upper === 'WITH' && TABLE_HINTS.test(tsql.slice(next))) {
        i = skipSpace(next + TABLE_HINTS.exec(tsql.slice(next))![0].length);
      } else {
        out.push(word);
        i += word.length;
      }
    } else if (c === '(') {
      closers.push(')');
      out.push(c);
      i += 1;
    } else if (c === ')') {
      out.push(closers.pop() ?? ')');
      i += 1;
    } else {
      out.push(c);
      i += 1;
    }
  }
  let text = out.join('').trim();
  if (limit !== undefined) {
    const semicolon = text.endsWith(';');
    text = `${semicolon ? text.slice(0, -1).trimEnd() : text} LIMIT ${limit}${semicolon ? ';' : ''}`;
  }
  return { text, names };
}

function endOfString(tsql: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = tsql.indexOf("'", i);
    if (quote < 0) throw new UnsupportedTsqlError(`unterminated string at ${start}`);
    if (tsql[quote + 1] !== "'") return quote + 1;
    i = quote + 2;
  }
}

function bracketed(tsql: string, start: number): { name: string; end: number } {
  let name = '';
  let i = start + 1;
  for (;;) {
    const close = tsql.indexOf(']', i);
    if (close < 0) throw new UnsupportedTsqlError(`unterminated [ at ${start}`);
    name += tsql.slice(i, close);
    if (tsql[close + 1] !== ']') return { name, end: close + 1 };
    name += ']';
    i = close + 2;
  }
}

/** `TOP (expr)` or `TOP n` / `TOP @n`, without PERCENT or WITH TIES. */
function topExpression(tsql: string, at: number): { expression: string; end: number } {
  if (tsql[at] === '(') {
    let depth = 0;
    for (let i = at; i < tsql.length; i++) {
      if (tsql[i] === '(') depth++;
      if (tsql[i] === ')' && --depth === 0) return checkNoModifier(tsql, { expression: tsql.slice(at + 1, i).trim(), end: i + 1 });
    }
    throw new UnsupportedTsqlError('unbalanced TOP (');
  }
  const m = /^(@?[A-Za-z0-9_]+)/.exec(tsql.slice(at));
  if (!m) throw new UnsupportedTsqlError(`TOP without a count at ${at}`);
  return checkNoModifier(tsql, { expression: m[1]!, end: at + m[1]!.length });
}

function checkNoModifier(tsql: string, taken: { expression: string; end: number }): { expression: string; end: number } {
  if (/^\s+(PERCENT|WITH\s+TIES)\b/i.test(tsql.slice(taken.end))) throw new UnsupportedTsqlError('TOP … PERCENT / WITH TIES');
  return taken;
}
