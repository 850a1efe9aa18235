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

  it('refuses what it cannot carry: two TOPs, TOP … PERCENT, an unterminated string', () => {
    expect(() => translateTsql('SELECT TOP 1 a FROM (SELECT TOP 2 a FROM t) x')).toThrow(UnsupportedTsqlError);
    expect(() => translateTsql('SELECT TOP 10 PERCENT a FROM t')).toThrow(/PERCENT/);
    expect(() => translateTsql("SELECT 'a")).toThrow(/unterminated string/);
  });
});
