// One mapper per query serves both drivers: tedious's and pg's shapes of the same row map to the same answer.
import { describe, expect, it } from 'vitest';
import { SourceRowInvalidError } from '../../../src/adapters/mssql/source-row-error.js';
import { mapRows, queryParams } from '../../../src/adapters/mssql/source-query.js';
import { isoInstant, keyNumber, phoneOnFile, sapPadded } from '../../../src/adapters/mssql/source-values.js';
import { ValidationError } from '../../../src/errors/app-error.js';
import { contractDetails, latestBills, latestPurchases, purchasesInPeriod, registerAppMeter, subscriptionSteps } from '../../../src/customer-data/index.js';
import { stsTokens } from '../../../src/customer-data/purchases.js';
import { stepDoneAt } from '../../../src/customer-data/subscription-steps.js';

const SOLD_AT = new Date('2026-03-14T09:30:00Z');
const TOKENS = ['12345678901234567890', '23456789012345678901', '34567890123456789012'];

const saleAsTedious = {
  NUMERO_COMMANDE: 'CMD-1 ', NUMERO_COMPTEUR: '14212345678', POLICE: '5551234', NOM_AGENCE_ENCAISSEMENT: 'DAKAR-PLATEAU',
  TARIF_USAGE: 'DPP', DATE_TRANSACTION: SOLD_AT, MONTANT_HT: 4237.29, MONTANT_TVA: 762.71, MONTANT_TCO: 0, MONTANT_TTC: 5000,
  MONTANT_RECU: null, ENERGIE_VENDUE: 41.3, DETTES: 0, SOLDE_DETTE: 0, NOM_OPERATEUR: 'WAVE', TOKEN: TOKENS.join(' '),
  ARRONDI: 0, ENERGIE1: 41.3, PRIX1: 102.6, MONTANT1: 4237.29, ENERGIE2: null, PRIX2: null, MONTANT2: null,
  ENERGIE3: null, PRIX3: null, MONTANT3: null,
};
// pg hands numerics back as strings with the column's scale.
const saleAsPg = {
  ...saleAsTedious, MONTANT_HT: '4237.29', MONTANT_TVA: '762.71', MONTANT_TCO: '0.00', MONTANT_TTC: '5000.00',
  ENERGIE_VENDUE: '41.300', DETTES: '0.00', SOLDE_DETTE: '0.00', ARRONDI: '0.00', ENERGIE1: '41.300', PRIX1: '102.6000', MONTANT1: '4237.29',
};

describe('purchase mapper', () => {
  it("maps tedious's and pg's shapes of one sale to the same purchase", () => {
    const [fromTedious] = mapRows(latestPurchases, [saleAsTedious]);
    const [fromPg] = mapRows(latestPurchases, [saleAsPg]);
    expect(fromPg).toEqual(fromTedious);
    expect(fromTedious).toMatchObject({
      orderNumber: 'CMD-1', purchasedAt: '2026-03-14T09:30:00.000Z', amountHtFcfa: 4237, vatFcfa: 763, amountTtcFcfa: 5000,
      energyKwh: 41.3, tokens: TOKENS, bands: [{ band: 1, energyKwh: 41.3, unitPriceFcfa: 102.6, amountFcfa: 4237 }],
    });
  });

  it('counts the TTC as paid when MONTANT_RECU is null, and MONTANT_RECU when present', () => {
    expect(mapRows(latestPurchases, [saleAsPg])[0]!.amountPaidFcfa).toBe(5000);
    expect(mapRows(latestPurchases, [{ ...saleAsPg, MONTANT_RECU: '5100.00' }])[0]!.amountPaidFcfa).toBe(5100);
  });

  it('refuses a sale without its TTC as the source\'s fault, naming the query', () => {
    const bad = () => mapRows(latestPurchases, [{ ...saleAsPg, MONTANT_TTC: null }]);
    expect(bad).toThrow(SourceRowInvalidError);
    expect(bad).toThrow(/latest-purchases on sic.*MONTANT_TTC/);
  });

  it('splits STS codes however they are separated, and keeps text that is not codes whole', () => {
    expect(stsTokens(TOKENS.join(','))).toEqual(TOKENS);
    expect(stsTokens('1234-5678-9012-3456-7890')).toEqual(['12345678901234567890']);
    expect(stsTokens('pending')).toEqual(['pending']);
    expect(stsTokens(null)).toEqual([]);
    expect(stsTokens('  ')).toEqual([]);
  });
});

describe('bill and contract mappers', () => {
  const bill = {
    IDHistorique: '9000000001', numFact: 'F-1', numCC: '000012345678', numPartenaire: '0001000001', DATFACT: new Date('2026-02-05T00:00:00Z'),
    DATEECH: null, moisFacturation: 1, anneeFacturation: 2026, BT_CONSOM1: '150.000', BT_CONSOM2: null, BT_CONSOM3: null,
    BT_CONSTOT: '150.000', BT_MONT_HT: '12000.40', BT_MONT_TTC: '14160.00', BT_MONT_TCO: '300.00', BT_TOTALFACTUR: '14460.00',
    MONT_TVA: '2160.00', MONT_TTC: '14160.00', MONT_TCO: '300.00', TOTALFACT: '14460.00', NBJRS_: 61, NOCPTEUR: 'P-1',
    NOMPRES: 'DIOP AWA', ADD_LIV: 'MEDINA', TARIF: 'DPP', PMAX: '6.000', TYPEFACT: 'N', AGENCE: 'DAKAR-PLATEAU', typeClientele: ' ',
  };

  it('maps a bill: bigint id and padded numbers without zeros, amounts in integer FCFA, blanks as null', () => {
    expect(mapRows(latestBills, [bill])[0]).toMatchObject({
      id: '9000000001', contractAccount: '12345678', partner: '1000001', issuedAt: '2026-02-05T00:00:00.000Z', dueAt: null,
      consumptionKwh: { band1: 150, band2: null, band3: null, total: 150 }, lowVoltage: { amountHtFcfa: 12000 },
      totalFcfa: 14460, daysBilled: 61, maxPower: 6, customerType: null,
    });
  });

  it('maps a contract: numbers without zeros, the phone on file in E.164', () => {
    const row = { VKONT: '000012345678', GPART: '0001000001', NAME_FIRST: 'Awa', NAME_LAST: 'Diop', TELNR_CALL: '77 123 45 67', SMTP_ADDR: null };
    expect(mapRows(contractDetails, [row])).toEqual([
      { contractAccount: '12345678', partner: '1000001', firstName: 'Awa', lastName: 'Diop', phone: '+221771234567', email: null },
    ]);
  });
});

describe('values', () => {
  it('keeps a phone on file only when it is a valid number', () => {
    expect(phoneOnFile.parse('+221 77 123 45 67')).toBe('+221771234567');
    expect(phoneOnFile.parse('n/a')).toBeNull();
    expect(phoneOnFile.parse(null)).toBeNull();
  });

  it('reads a datetime without a zone as UTC (Dakar time)', () => {
    expect(isoInstant.parse('2026-03-14 09:30:00')).toBe('2026-03-14T09:30:00.000Z');
    expect(isoInstant.parse('2026-03-14T09:30:00+01:00')).toBe('2026-03-14T08:30:00.000Z');
    expect(isoInstant.safeParse('not a date').success).toBe(false);
  });

  it('strips leading zeros from key numbers, pads SAP numbers to their width', () => {
    expect(keyNumber.parse('000012345678')).toBe('12345678');
    expect(keyNumber.parse('0')).toBe('0');
    expect(keyNumber.parse('AB-0012')).toBe('AB-0012');
    expect(sapPadded(12).parse(' 12345678 ')).toBe('000012345678');
    expect(sapPadded(12).safeParse('1234567890123').success).toBe(false);
    expect(sapPadded(12).safeParse('12a').success).toBe(false);
  });

  it('dates a subscription step from its HANA date and time, and leaves a step not done without one', () => {
    expect(stepDoneAt('20260301', '143000')).toBe('2026-03-01T14:30:00.000Z');
    expect(stepDoneAt('20260301', '')).toBe('2026-03-01T00:00:00.000Z');
    expect(stepDoneAt('', '')).toBeNull();
    expect(stepDoneAt('00000000', '000000')).toBeNull();
    expect(stepDoneAt(null, null)).toBeNull();
    expect(stepDoneAt('20260231', '000000')).toBeNull();
  });
});

describe('parameters', () => {
  it('refuses a bad value with a 400 naming the parameter', () => {
    const error = (() => {
      try {
        queryParams(latestPurchases, { meter: '14212345678', police: '5551234', limit: 0 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fields.map((f) => f.path)).toEqual(['params.limit']);
  });

  it('refuses a period whose start is not before its end', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(() => queryParams(purchasesInPeriod, { meter: 'm', police: 'p', from: at, to: at, limit: 10 })).toThrow(ValidationError);
  });

  it("normalises what the sources key by: SIC's meter type code, SAP's padded account, trimmed numbers", () => {
    expect(queryParams(registerAppMeter, { meter: ' 14212345678 ', type: 'postpaid' })).toEqual({ meter: '14212345678', type: 2 });
    expect(queryParams(contractDetails, { account: '12345678' })).toEqual({ account: '000012345678' });
    expect(queryParams(subscriptionSteps, { notice: ' 400001234 ' })).toEqual({ notice: '400001234' });
  });
});
