// Checks the tables and columns a T-SQL text names against a catalogue, through node-sql-parser's transactsql AST.
import nodeSqlParser from 'node-sql-parser';

const parser = new nodeSqlParser.Parser();

/** Tables of one source: table name → its columns. */
export type SourceTables = Readonly<Record<string, readonly string[]>>;

// node-sql-parser 5.4 reads `TOP (@limit) [a]` as a call to a function TOP aliased `a` (its issue #1094), which would
// hide the first column from the check; `TOP (1)` parses right, so the parameter is swapped for a number first.
const TOP_PARAMETER = /\bTOP\s*\(\s*@\w+\s*\)/gi;

type Node = Record<string, unknown>;
/** Columns visible at one level of a statement: each table alias → its catalogued columns (undefined: an unknown
 *  table, already reported, whose columns are not reported again). */
type Scope = Map<string, readonly string[] | undefined>;

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

/** `db.table` or `table`: the schema of a real table is dbo, the default, so both name the same one. */
function tableEntries(select: Node): Node[] {
  return Array.isArray(select.from) ? (select.from as unknown[]).filter(isNode) : [];
}

function columnName(ref: Node): string | undefined {
  const column = ref.column;
  if (typeof column === 'string') return column;
  const inner = isNode(column) && isNode(column.expr) ? column.expr.value : undefined;
  return typeof inner === 'string' ? inner : undefined;
}

function parseTsql(tsql: string): unknown {
  return parser.astify(tsql.replace(TOP_PARAMETER, 'TOP (1)'), { database: 'transactsql' });
}

/** The names of the columns a SELECT returns, in order (an alias, else the column's own name); none for a write. */
export function selectedNames(tsql: string): (string | undefined)[] {
  const ast = parseTsql(tsql);
  const statement = Array.isArray(ast) ? ast[0] : ast;
  if (!isNode(statement) || statement.type !== 'select' || !Array.isArray(statement.columns)) return [];
  return statement.columns.map((column: unknown) => {
    if (!isNode(column)) return undefined;
    if (typeof column.as === 'string') return column.as;
    return isNode(column.expr) && column.expr.type === 'column_ref' ? columnName(column.expr) : undefined;
  });
}

/** Every problem with `tsql` against `tables`: unparseable text, unknown tables, unknown or unresolvable columns. */
export function catalogueProblems(tsql: string, tables: SourceTables): string[] {
  const problems: string[] = [];
  let ast: unknown;
  try {
    ast = parseTsql(tsql);
  } catch (error) {
    return [`does not parse: ${(error as Error).message}`];
  }
  const statements = Array.isArray(ast) ? ast : [ast];
  if (statements.length !== 1) problems.push(`holds ${statements.length} statements, not one`);

  const catalogued = (entry: Node): readonly string[] | undefined => {
    const table = entry.table as string;
    const schema = (entry.db ?? entry.schema ?? null) as string | null;
    if (schema !== null && schema.toLowerCase() !== 'dbo') {
      problems.push(`table ${schema}.${table} is outside dbo`);
      return undefined;
    }
    if (!Object.hasOwn(tables, table)) {
      problems.push(`unknown table ${table}`);
      return undefined;
    }
    return tables[table];
  };

  const checkColumn = (ref: Node, scopes: Scope[], outputAliases: ReadonlySet<string>): void => {
    const column = columnName(ref);
    if (column === undefined || column.startsWith('@') || column === '*') return;
    const qualifier = typeof ref.table === 'string' ? ref.table : null;
    if (qualifier !== null) {
      const scope = scopes.find((s) => s.has(qualifier));
      const columns = scope?.get(qualifier);
      if (!scope) problems.push(`unknown table or alias ${qualifier} (column ${column})`);
      else if (columns && !columns.includes(column)) problems.push(`unknown column ${qualifier}.${column}`);
      return;
    }
    if (outputAliases.has(column)) return;
    // A correlated subquery may name its outer query's columns.
    const found = scopes.some((scope) => [...scope.values()].some((columns) => columns === undefined || columns.includes(column)));
    if (!found) problems.push(`unknown column ${column}`);
  };

  const visit = (value: unknown, scopes: Scope[], outputAliases: ReadonlySet<string> = new Set()): void => {
    if (Array.isArray(value)) return value.forEach((item) => visit(item, scopes, outputAliases));
    if (!isNode(value)) return;
    if (value.type === 'select' && 'columns' in value) return visitSelect(value, scopes);
    if (value.type === 'insert') return visitInsert(value, scopes);
    if (value.type === 'column_ref') return checkColumn(value, scopes, outputAliases);
    for (const child of Object.values(value)) visit(child, scopes, outputAliases);
  };

  const visitSelect = (select: Node, outer: Scope[]): void => {
    const scope: Scope = new Map();
    for (const entry of tableEntries(select)) {
      if (typeof entry.table !== 'string') {
        problems.push('a derived table in FROM: the check reads only catalogued tables');
        continue;
      }
      scope.set(typeof entry.as === 'string' ? entry.as : entry.table, catalogued(entry));
    }
    const chain = [scope, ...outer];
    const aliases = new Set(
      (Array.isArray(select.columns) ? select.columns : []).flatMap((c: unknown) => (isNode(c) && typeof c.as === 'string' ? [c.as] : [])),
    );
    for (const entry of tableEntries(select)) visit(entry.on, chain);
    visit(select.columns, chain);
    visit(select.where, chain);
    visit(select.groupby, chain);
    visit(select.having, chain);
    // ORDER BY may name the select list's aliases.
    visit(select.orderby, chain, aliases);
  };

  const visitInsert = (insert: Node, outer: Scope[]): void => {
    const target = Array.isArray(insert.table) && isNode(insert.table[0]) ? insert.table[0] : undefined;
    const columns = target ? catalogued(target) : undefined;
    if (!target) problems.push('an INSERT without a table');
    for (const column of Array.isArray(insert.columns) ? insert.columns : []) {
      const name = typeof column === 'string' ? column : columnName({ column });
      if (columns && name !== undefined && !columns.includes(name)) problems.push(`unknown column ${String(target?.table)}.${name}`);
    }
    // The inserted rows come from their own SELECT, whose FROM is its own scope.
    visit(insert.values, outer);
  };

  visit(statements[0], []);
  return problems;
}

/** The `@name` parameters a text uses, each once (T-SQL and twin alike; quoted text and identifiers skipped). */
export function parameterNames(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\[[^\]]*\]|@([A-Za-z_]\w*)/g)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names].sort();
}
