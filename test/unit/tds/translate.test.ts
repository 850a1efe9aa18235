// The TDS peer's T-SQL → PostgreSQL translation: exactly the constructs it claims, and a refusal for the rest.
import { describe, expect, it } from 'vitest';
import { UnsupportedTsqlError, translateTsql } from '../../support/tds/translate.js';

describe('T-SQL translation', () => {
  it('quotes bracketed names (case, spaces and ]] kept), drops dbo., moves TOP (@n) to a LIMIT at the end', () => {
    const tsql = 'SELECT TOP (@n) [N° COMPTEUR], [a]]b] FROM [dbo].[HEXING_INFOS_ADMINISTRATIVES_NEW] WHERE [tel] = @phone ORDER BY [DATE] DESC;';
    expect(translateTsql(tsql)).toEqual({
      text: 'SELECT "N° COMPTEUR", "a]b" FROM "HEXING_INFOS_ADMINISTRATIVES_NEW" WHERE "tel" = $2 ORDER BY "DATE" DESC LIMIT $1;',
      names: ['n', 'phone'],
    });
  });

  it('numbers parameters by first appearance, one number per name whatever its case', () => {
    expect(translateTsql('SELECT 1 WHERE @a = @b OR @B = @A')).toEqual({ text: 'SELECT 1 WHERE $1 = $2 OR $2 = $1', names: ['a', 'b'] });
  });

  it('leaves strings alone, dropping the N of N-literals, and keeps @@ functions', () => {
    expect(translateTsql(`SELECT N'[x] @y it''s', 'z' FROM dbo.T WHERE @@ROWCOUNT > 0`).text).toBe(`SELECT '[x] @y it''s', 'z' FROM T WHERE @@ROWCOUNT > 0`);
  });

  it('turns TOP n into LIMIT n, ISNULL into COALESCE, and drops WITH (NOLOCK) and comments', () => {
    expect(translateTsql('SELECT TOP 5 ISNULL([MONTANT_RECU], [MONTANT_TTC]) FROM [Historique] WITH (NOLOCK) -- bills\nORDER BY [DATFACT]').text).toBe(
      'SELECT COALESCE("MONTANT_RECU", "MONTANT_TTC") FROM "Historique" \nORDER BY "DATFACT" LIMIT 5',
    );
  });

  it('passes OFFSET … FETCH through: PostgreSQL reads it as SQL Server does', () => {
    expect(translateTsql('SELECT [a] FROM [t] ORDER BY [a] OFFSET @skip ROWS FETCH NEXT @take ROWS ONLY').text).toBe(
      'SELECT "a" FROM "t" ORDER BY "a" OFFSET $1 ROWS FETCH NEXT $2 ROWS ONLY',
    );
  });

  it('turns MONTH/YEAR/DAY(x) into an int EXTRACT, nested parentheses kept, and DATEFROMPARTS into make_date', () => {
    const tsql =
      'SELECT MONTH([DATE_TRANSACTION]) AS [month], SUM(COALESCE([MONTANT_RECU], [MONTANT_TTC])) FROM [T]' +
      ' WHERE [DATE_TRANSACTION] < DATEFROMPARTS(@year + 1, 1, 1) AND YEAR(DATEFROMPARTS(@year, (1), 1)) > 0 GROUP BY MONTH([DATE_TRANSACTION])';
    expect(translateTsql(tsql).text).toBe(
      'SELECT EXTRACT(MONTH FROM "DATE_TRANSACTION")::int AS "month", SUM(COALESCE("MONTANT_RECU", "MONTANT_TTC")) FROM "T"' +
        ' WHERE "DATE_TRANSACTION" < make_date($1 + 1, 1, 1) AND EXTRACT(YEAR FROM make_date($1, (1), 1))::int > 0' +
        ' GROUP BY EXTRACT(MONTH FROM "DATE_TRANSACTION")::int',
    );
    // A bracketed column named like a function stays a column.
    expect(translateTsql('SELECT [MONTH] FROM [T]').text).toBe('SELECT "MONTH" FROM "T"');
  });

  it('drops table hints (UPDLOCK, HOLDLOCK, NOLOCK … in one WITH) and keeps INSERT … SELECT … WHERE NOT EXISTS as it reads', () => {
    const tsql =
      'INSERT INTO [compteurs_app_mobile] ([numero], [type_compteur]) SELECT @meter, @type' +
      ' WHERE NOT EXISTS (SELECT 1 FROM [compteurs_app_mobile] WITH (UPDLOCK, HOLDLOCK) WHERE [numero] = @meter)';
    expect(translateTsql(tsql)).toEqual({
      text:
        'INSERT INTO "compteurs_app_mobile" ("numero", "type_compteur") SELECT $1, $2' +
        ' WHERE NOT EXISTS (SELECT 1 FROM "compteurs_app_mobile" WHERE "numero" = $1)',
      names: ['meter', 'type'],
    });
    expect(translateTsql('SELECT [a] FROM [t] WITH (nolock)').text).toBe('SELECT "a" FROM "t"');
  });

  it('casts each use of a parameter to the type castOf gives, TOP included; untyped ones stay bare', () => {
    const cast = (name: string) => ({ meter: 'text', limit: 'int' })[name];
    expect(translateTsql('SELECT TOP (@limit) @meter, @when WHERE [n] = @meter', cast)).toEqual({
      text: 'SELECT $2::text, $3 WHERE "n" = $2::text LIMIT $1::int',
      names: ['limit', 'meter', 'when'],
    });
  });

  it('refuses what it cannot carry: two TOPs, TOP … PERCENT, an unterminated string', () => {
    expect(() => translateTsql('SELECT TOP 1 a FROM (SELECT TOP 2 a FROM t) x')).toThrow(UnsupportedTsqlError);
    expect(() => translateTsql('SELECT TOP 10 PERCENT a FROM t')).toThrow(/PERCENT/);
    expect(() => translateTsql("SELECT 'a")).toThrow(/unterminated string/);
  });
});
