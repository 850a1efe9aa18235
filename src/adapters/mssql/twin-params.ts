// The twin text names its parameters `@name`, like the T-SQL: rewritten here into pg's positional `$n`.
import type { SourceParam } from './source-messages.js';

// A quoted literal is skipped whole, so an `@` inside text is never taken for a parameter.
const TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|@([A-Za-z_][A-Za-z0-9_]*)/g;

/** `select … where a = @meter` + `{ meter: '1' }` → `select … where a = $1`, `['1']`; an unknown name throws. */
export function positionalTwin(text: string, params: Readonly<Record<string, SourceParam>>): { text: string; values: SourceParam[] } {
  const positions = new Map<string, number>();
  const values: SourceParam[] = [];
  const out = text.replace(TOKEN, (whole, name: string | undefined) => {
    if (name === undefined) return whole;
    if (!Object.hasOwn(params, name)) throw new Error(`twin parameter @${name} has no value`);
    let n = positions.get(name);
    if (n === undefined) {
      values.push(params[name]!);
      n = values.length;
      positions.set(name, n);
    }
    return `$${n}`;
  });
  return { text: out, values };
}
