// The synthetic rows both twin tests seed (source-twins, tsql-vs-twin) and one sample input per named query.
import type pg from 'pg';
import { insertTwinRows } from './source-twin.js';

export const METER = '14212345678';
export const POLICE = '5551234';
export const ACCOUNT = '300012345';
export const at = (iso: string): Date => new Date(iso);

// [order, sold at, TTC, paid (null: TTC applies), kWh]; C06 and C07 share their instant.
export const SALES: [string, string, number, number | null, number][] = [
  ['C01', '2025-12-31T23:59:59Z', 1000, null, 8],
  ['C02', '2026-01-10T08:00:00Z', 5000, 5000, 41.3],
  ['C03', '2026-01-20T08:00:00Z', 2000, null, 16.5],
  ['C04', '2026-02-03T10:00:00Z', 3000, 3100, 24.7],
  ['C05', '2026-03-01T00:00:00Z', 10000, null, 82.1],
  ['C06', '2026-03-15T12:00:00Z', 1000, null, 8.25],
  ['C07', '2026-03-15T12:00:00Z', 1500, null, 12],
  ['C08', '2027-01-01T00:00:00Z', 4000, null, 33],
];

export const sale = (order: string, soldAt: string, ttc: number, paid: number | null, energy: number, police = POLICE) => ({
  NUMERO_COMMANDE: order, NUMERO_COMPTEUR: METER, POLICE: police, DATE_TRANSACTION: at(soldAt), MONTANT_TTC: ttc,
  MONTANT_RECU: paid, ENERGIE_VENDUE: energy, MONTANT_HT: Math.round(ttc / 1.18), MONTANT_TVA: ttc - Math.round(ttc / 1.18),
  TOKEN: '1234 5678 9012 3456 7890', ENERGIE1: energy, PRIX1: 102.5, MONTANT1: Math.round(ttc / 1.18),
});

// [id, bill number, issued, billing month, billing year, total, kWh]; F4 and F5 share their issue date.
export const BILLS: [number, string, string, number, number, number, number][] = [
  [1, 'F1', '2025-11-05T00:00:00Z', 10, 2025, 10000, 100],
  [2, 'F2', '2026-01-05T00:00:00Z', 12, 2025, 12000, 120],
  [3, 'F3', '2026-03-05T00:00:00Z', 2, 2026, 15000.6, 150.5],
  [4, 'F4', '2026-05-05T00:00:00Z', 4, 2026, 9000, 90],
  [5, 'F5', '2026-05-05T00:00:00Z', 4, 2026, 500, 0],
];

export const bill = (id: number, numFact: string, issued: string, month: number, year: number, total: number, kwh: number, numCC = ACCOUNT) => ({
  IDHistorique: id, numFact, numCC, numPartenaire: '0001000001', DATFACT: at(issued), DATEECH: at(issued.replace('-05T', '-20T')),
  moisFacturation: month, anneeFacturation: year, BT_CONSOM1: kwh, BT_CONSTOT: kwh, TOTALFACT: total, MONT_TTC: total, NBJRS_: 61,
});

// One input per named query: a query added without one fails the first assertion below.
export const SAMPLE_INPUTS: Record<string, Record<string, unknown>> = {
  'prepaid-customer': { meter: METER },
  'postpaid-account': { account: ACCOUNT },
  'register-app-meter': { meter: METER, type: 'prepaid' },
  'latest-purchases': { meter: METER, police: POLICE, limit: 10 },
  'purchases-in-period': { meter: METER, police: POLICE, from: at('2026-01-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z'), limit: 10 },
  'monthly-purchases': { meter: METER, police: POLICE, year: 2026 },
  'latest-bills': { account: ACCOUNT, limit: 6 },
  'bills-in-period': { account: ACCOUNT, from: at('2026-01-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z'), limit: 6 },
  'monthly-bills': { account: ACCOUNT, year: 2026 },
  'contract-details': { account: '12345678' },
  'subscription-steps': { notice: '400001234' },
};

/** Seeds the twin tables of migration 0014 with the rows above, plus the other meters, accounts and requests they must never return. */
export async function seedTwinRows(pool: Pick<pg.Pool, 'query'>): Promise<void> {
  await insertTwinRows(pool, 'sic."HEXING_SENELECBILL_ALHDL2"', [
    ...SALES.map((s) => sale(...s)),
    // The meter's former customer (another POC) and another meter: never in this customer's answers.
    sale('X01', '2026-03-20T00:00:00Z', 9999, null, 80, '5559999'),
    { ...sale('Y01', '2026-03-20T00:00:00Z', 7777, null, 60), NUMERO_COMPTEUR: '14299999999' },
  ]);
  await insertTwinRows(pool, 'sic."HEXING_INFOS_ADMINISTRATIVES_NEW"', [
    { 'N° COMPTEUR': METER, POC: POLICE, tel: '771234567', 'N° CLIENT': 'CL-1', ADRESSE: 'HLM 5', usage: 'DOMESTIQUE', CLIENT: 'FALL MODOU', agence: 'DAKAR-PLATEAU' },
  ]);
  await insertTwinRows(pool, 'sic."compteurs_postpaid"', [
    { 'COMPTE CONTRAT': ACCOUNT, 'N PARTENAIRE': '0001000001', TELEPHONE: '+221 76 000 00 01', ADRESSE: ' ', TARIF: 'DPP', CLIENT: 'DIOP AWA', AGENCE: 'PIKINE' },
  ]);
  await insertTwinRows(pool, 'histh2mc."Historique"', [...BILLS.map((b) => bill(...b)), bill(6, 'G1', '2026-03-05T00:00:00Z', 2, 2026, 777, 7, '300099999')]);
  await insertTwinRows(pool, 'bi_ods."FKKVKP"', [
    { VKONT: '000012345678', GPART: '0001000001' },
    { VKONT: '000087654321', GPART: '0001000002' },
  ]);
  await insertTwinRows(pool, 'bi_ods."BUT000"', [
    { PARTNER: '0001000001', NAME_FIRST: 'Awa', NAME_LAST: 'Diop', ADDRCOMM: '0000500001' },
    { PARTNER: '0001000002', NAME_FIRST: 'Ibou', NAME_LAST: 'Ndiaye', ADDRCOMM: null },
  ]);
  await insertTwinRows(pool, 'bi_ods."ADR2"', [
    { ADDRNUMBER: '0000500001', TELNR_CALL: '77 500 00 02' },
    { ADDRNUMBER: '0000500001', TELNR_CALL: '77 500 00 01' },
  ]);
  await insertTwinRows(pool, 'bi_ods."ADR6"', [{ ADDRNUMBER: '0000500001', SMTP_ADDR: 'awa.diop@example.sn' }]);
  const step = (code: number, date: string, time: string) => ({
    NUM_AVIS: '400001234', CODE_ETAPE: code, DESC_ETAPE: `Etape ${code}`, DATE_TERM: date, HEURE_TERM: time, NUM_PARTENAIRE: '0001000001',
    PRENOM: 'Awa', NOM: 'Diop', TELEPHONE: '77 123 45 67', STATUT_AVIS: 'EN COURS', DT_DERNIERE_MAJ: at('2026-01-15T10:00:00Z'),
  });
  await insertTwinRows(pool, 'bi_ods."AVIS_ETAPES_HANA"', [
    step(3, '', ''),
    step(1, '20260110', '093000'),
    step(2, '20260115', ''),
    { ...step(1, '', ''), NUM_AVIS: '400009999' },
  ]);
}
