// Every named query's T-SQL parses (node-sql-parser, transactsql) and names only the catalogue's tables and columns.
import { describe, expect, it } from 'vitest';
import { SOURCE_CATALOGUE } from '../../../src/adapters/mssql/source-catalogue.js';
import { SOURCE_QUERIES, latestPurchases } from '../../../src/customer-data/index.js';
import { catalogueProblems, parameterNames } from '../../support/tsql-catalogue.js';

const SIC = SOURCE_CATALOGUE.sic;
const BI_ODS = SOURCE_CATALOGUE.bi_ods;

describe('named queries against the catalogue', () => {
  it('lists every query once, by a unique name', () => {
    const names = SOURCE_QUERIES.map((q) => q.name);
    expect(names.length).toBeGreaterThanOrEqual(11);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const query of SOURCE_QUERIES) {
    it(`${query.name}: its T-SQL names only catalogued tables and columns of ${query.source}`, () => {
      expect(catalogueProblems(query.tsql, SOURCE_CATALOGUE[query.source])).toEqual([]);
    });

    it(`${query.name}: the T-SQL and the twin name exactly the parameters the query takes`, () => {
      const taken = Object.keys(query.input.shape).sort();
      expect(parameterNames(query.tsql)).toEqual(taken);
      expect(parameterNames(query.twin)).toEqual(taken);
    });

    it(`${query.name}: the T-SQL brackets its names and the twin reads its source's schema`, () => {
      expect(query.tsql).not.toMatch(/"/);
      expect(query.twin).toContain(`${query.source}."`);
      expect(query.twin).not.toMatch(/\[|\bTOP\b/);
    });
  }
});

describe('the catalogue check', () => {
  it('fails a real query whose column is misspelt', () => {
    const wrong = latestPurchases.tsql.replace('[MONTANT_RECU]', '[MONTANT_RECUE]');
    expect(wrong).not.toBe(latestPurchases.tsql);
    expect(catalogueProblems(wrong, SIC)).toEqual(['unknown column MONTANT_RECUE']);
  });

  it('fails an unknown column right after TOP (@limit), which the parser would otherwise take for an alias', () => {
    const text = 'SELECT TOP (@limit) [MONTANT_PAYE], [POLICE] FROM [HEXING_SENELECBILL_ALHDL2] ORDER BY [DATE_TRANSACTION]';
    expect(catalogueProblems(text, SIC)).toEqual(['unknown column MONTANT_PAYE']);
  });

  it('fails an unknown table', () => {
    expect(catalogueProblems('SELECT [numero] FROM [compteurs_app]', SIC)).toEqual(['unknown table compteurs_app']);
  });

  it("fails a column qualified by an alias whose table lacks it, and an alias that names nothing", () => {
    const text =
      'SELECT f.[VKONT], f.[NAME_LAST], x.[GPART] FROM [FKKVKP] AS f INNER JOIN [BUT000] AS b ON b.[PARTNER] = f.[GPART]';
    expect(catalogueProblems(text, BI_ODS)).toEqual(['unknown column f.NAME_LAST', 'unknown table or alias x (column GPART)']);
  });

  it("resolves a correlated subquery's outer alias and ORDER BY's select-list aliases", () => {
    const text =
      'SELECT b.[PARTNER] AS [who], (SELECT MIN(a.[TELNR_CALL]) FROM [ADR2] AS a WHERE a.[ADDRNUMBER] = b.[ADDRCOMM]) AS [phone]' +
      ' FROM [BUT000] AS b ORDER BY [who]';
    expect(catalogueProblems(text, BI_ODS)).toEqual([]);
    expect(catalogueProblems(text.replace('b.[ADDRCOMM]', 'b.[ADDRNUMBER]'), BI_ODS)).toEqual(['unknown column b.ADDRNUMBER']);
  });

  it("fails an INSERT's unknown column and checks its SELECT's own FROM", () => {
    expect(catalogueProblems('INSERT INTO [compteurs_app_mobile] ([numero], [kind]) VALUES (@meter, @type)', SIC)).toEqual([
      'unknown column compteurs_app_mobile.kind',
    ]);
    const text =
      'INSERT INTO [compteurs_app_mobile] ([numero]) SELECT @meter WHERE NOT EXISTS (SELECT 1 FROM [compteurs_app_mobile] WHERE [number] = @meter)';
    expect(catalogueProblems(text, SIC)).toEqual(['unknown column number']);
  });

  it('accepts the default schema dbo and refuses another', () => {
    expect(catalogueProblems('SELECT [NUM_AVIS] FROM [dbo].[AVIS_ETAPES_HANA]', BI_ODS)).toEqual([]);
    expect(catalogueProblems('SELECT [NUM_AVIS] FROM [hana].[AVIS_ETAPES_HANA]', BI_ODS)).toEqual(['table hana.AVIS_ETAPES_HANA is outside dbo']);
  });

  it('fails a text the parser cannot read', () => {
    expect(catalogueProblems('SELECT FROM WHERE', SIC)[0]).toMatch(/^does not parse/);
  });

  it('finds parameters outside quoted text and identifiers', () => {
    expect(parameterNames(`SELECT [a@b], "c@d" FROM t WHERE x = @meter AND y = '@not' AND z = @limit + @meter`)).toEqual(['limit', 'meter']);
  });
});
