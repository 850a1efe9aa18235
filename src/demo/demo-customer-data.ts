// The demo's utility data (embedded mode only): a few prepaid and postpaid customers in the twin tables with a year
// of purchases and bills up to the day `npm start` runs, and the demo customer's meters linked at start.
import type { PoolClient } from 'pg';
import type { PgHandle } from '../adapters/postgres/postgres-messages.js';
import { queueSicRegistration } from '../meters/index.js';
import { DEMO_AGENCY, DEMO_CUSTOMER } from './demo-accounts.js';

interface DemoPrepaid {
  readonly meter: string;
  readonly police: string;
  readonly phone: string;
  readonly name: string;
  readonly address: string;
  /** FCFA bought each month, in order; a month with two purchases lists both. */
  readonly monthly: readonly (readonly number[])[];
}

interface DemoPostpaid {
  readonly account: string;
  readonly partner: string;
  readonly phone: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly address: string;
  readonly email: string;
  /** kWh billed every two months, oldest first (six bills: a year). */
  readonly consumption: readonly number[];
}

/**
 * The demo customer owns one meter of each kind (the utility's phone on file is theirs, written as SIC writes it);
 * the others belong to people without the app, so linking one of their meters shows the pending flow.
 */
export const DEMO_PREPAID: readonly DemoPrepaid[] = [
  { meter: '14200000001', police: '7000001', phone: '77 000 00 01', name: 'NDIAYE AWA', address: 'Rue 10 x 13, Medina, Dakar', monthly: [[5000], [3000, 2000], [5000], [10000], [2000, 2000], [5000], [3000], [5000, 1000], [10000], [5000], [2000, 3000], [5000]] },
  { meter: '14200000002', police: '7000002', phone: '+221 77 000 00 02', name: 'FALL MOUSSA', address: 'Cite Keur Gorgui, Dakar', monthly: [[2000], [2000], [3000], [2000], [2000], [5000], [2000], [2000], [3000], [2000], [2000], [2000]] },
];

export const DEMO_POSTPAID: readonly DemoPostpaid[] = [
  { account: '300000000001', partner: '1000000001', phone: '+221770000001', firstName: 'AWA', lastName: 'NDIAYE', address: 'Rue 10 x 13, Medina, Dakar', email: 'awa.ndiaye@example.invalid', consumption: [212, 198, 260, 305, 281, 230] },
  { account: '300000000003', partner: '1000000003', phone: '+221770000003', firstName: 'KHADY', lastName: 'SOW', address: 'Sacre-Coeur 3, Dakar', email: 'khady.sow@example.invalid', consumption: [410, 385, 450, 520, 498, 430] },
];

/** The demo customer's subscription request ("avis"): GET /v1/subscriptions/{number}?phone=+221770000001. */
export const DEMO_NOTICE = '400000000001';

// Woyofal's domestic tariff as the demo draws it: the first band's price, TVA 18 %.
const BAND1_PRICE = 91.17;
const VAT = 0.18;
const DAY_MS = 86_400_000;

const round2 = (n: number): number => Math.round(n * 100) / 100;

function monthStart(now: Date, monthsBack: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsBack, 1));
}

/** STS codes as SIC keeps them: three 20-digit numbers per sale, deterministic from the order number. */
function stsCodes(order: string): string {
  const digits = order.replace(/\D/g, '').padStart(20, '7').slice(-20);
  return [0, 1, 2].map((i) => `${digits.slice(0, 19)}${i}`).join(' ');
}

function salesOf(customer: DemoPrepaid, now: Date): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  customer.monthly.forEach((amounts, i) => {
    const start = monthStart(now, customer.monthly.length - 1 - i);
    amounts.forEach((ttc, k) => {
      // The current month's sales fall before today, so every one of them is in the past.
      const at = new Date(Math.min(start.getTime() + (3 + 9 * k) * DAY_MS + 10 * 3_600_000, now.getTime() - (k + 1) * 3_600_000));
      const ht = Math.round(ttc / (1 + VAT));
      const energy = round2(ht / BAND1_PRICE);
      const order = `${customer.meter.slice(-4)}${at.toISOString().slice(0, 10).replace(/-/g, '')}${k}`;
      rows.push({
        NUMERO_COMMANDE: order, NUMERO_COMPTEUR: customer.meter, POLICE: customer.police, NOM_AGENCE_ENCAISSEMENT: DEMO_AGENCY.name,
        TARIF_USAGE: 'DPP', DATE_TRANSACTION: at, MONTANT_HT: ht, MONTANT_TVA: ttc - ht, MONTANT_TCO: 0, MONTANT_TTC: ttc,
        MONTANT_RECU: k === 0 ? ttc : null, ENERGIE_VENDUE: energy, DETTES: 0, SOLDE_DETTE: 0, NOM_OPERATEUR: 'WAVE',
        TOKEN: stsCodes(order), ARRONDI: 0, ENERGIE1: energy, PRIX1: BAND1_PRICE, MONTANT1: ht,
      });
    });
  });
  return rows;
}

function billsOf(customer: DemoPostpaid, now: Date, firstId: number): Record<string, unknown>[] {
  return customer.consumption.map((kwh, i) => {
    // Billed every two months, the newest on the 5th of last month (always past): it bills the two months before.
    const issued = new Date(monthStart(now, 1 + 2 * (customer.consumption.length - 1 - i)).getTime() + 4 * DAY_MS);
    const billed = new Date(Date.UTC(issued.getUTCFullYear(), issued.getUTCMonth() - 1, 1));
    const ht = Math.round(kwh * 112.65);
    const ttc = Math.round(ht * (1 + VAT));
    return {
      IDHistorique: firstId + i, numFact: `${customer.account.slice(-4)}${billed.getUTCFullYear()}${String(billed.getUTCMonth() + 1).padStart(2, '0')}`,
      numCC: customer.account, numPartenaire: customer.partner, DATFACT: issued, DATEECH: new Date(issued.getTime() + 15 * DAY_MS),
      moisFacturation: billed.getUTCMonth() + 1, anneeFacturation: billed.getUTCFullYear(), BT_CONSOM1: Math.min(kwh, 250),
      BT_CONSOM2: Math.max(0, kwh - 250), BT_CONSTOT: kwh, BT_MONT_HT: ht, BT_MONT_TTC: ttc, MONT_TVA: ttc - ht, MONT_TTC: ttc,
      MONT_TCO: 0, TOTALFACT: ttc, NBJRS_: 61, NOCPTEUR: `SN${customer.account.slice(-6)}`, NOMPRES: `${customer.lastName} ${customer.firstName}`,
      ADD_LIV: customer.address, TARIF: 'DMP', TYPEFACT: 'NORMALE', AGENCE: DEMO_AGENCY.code, typeClientele: 'DOMESTIQUE',
    };
  });
}

function subscriptionSteps(now: Date): Record<string, unknown>[] {
  const steps = ['Demande enregistree', 'Etude technique', 'Devis paye', 'Pose du compteur'];
  return steps.map((desc, i) => {
    const done = i < 2 ? new Date(now.getTime() - (20 - 7 * i) * DAY_MS) : null;
    return {
      NUM_AVIS: DEMO_NOTICE, CODE_ETAPE: i + 1, DESC_ETAPE: desc, DATE_TERM: done ? done.toISOString().slice(0, 10).replace(/-/g, '') : '',
      HEURE_TERM: done ? '093000' : '', NUM_PARTENAIRE: '1000000001', PRENOM: 'AWA', NOM: 'NDIAYE', TELEPHONE: '770000001',
      STATUT_AVIS: 'EN COURS', DT_DERNIERE_MAJ: new Date(now.getTime() - 13 * DAY_MS),
    };
  });
}

async function insertRows(c: PoolClient, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (const row of rows) {
    const columns = Object.keys(row);
    await c.query(
      `INSERT INTO ${table} (${columns.map((k) => `"${k}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      columns.map((k) => row[k]),
    );
  }
}

/** Replaces the demo customers' twin rows, so a year of history always ends on the day of the start. */
async function seedTwins(c: PoolClient, now: Date): Promise<void> {
  const meters = DEMO_PREPAID.map((p) => p.meter);
  const accounts = DEMO_POSTPAID.map((p) => p.account);
  const partners = DEMO_POSTPAID.map((p) => p.partner);
  await c.query(`DELETE FROM sic."HEXING_SENELECBILL_ALHDL2" WHERE "NUMERO_COMPTEUR" = ANY($1)`, [meters]);
  await c.query(`DELETE FROM sic."HEXING_INFOS_ADMINISTRATIVES_NEW" WHERE "N° COMPTEUR" = ANY($1)`, [meters]);
  await c.query(`DELETE FROM sic."compteurs_postpaid" WHERE "COMPTE CONTRAT" = ANY($1)`, [accounts]);
  await c.query(`DELETE FROM histh2mc."Historique" WHERE "numCC" = ANY($1)`, [accounts]);
  await c.query(`DELETE FROM bi_ods."FKKVKP" WHERE "VKONT" = ANY($1)`, [accounts]);
  await c.query(`DELETE FROM bi_ods."BUT000" WHERE "PARTNER" = ANY($1)`, [partners]);
  await c.query(`DELETE FROM bi_ods."ADR2" WHERE "ADDRNUMBER" = ANY($1)`, [partners]);
  await c.query(`DELETE FROM bi_ods."ADR6" WHERE "ADDRNUMBER" = ANY($1)`, [partners]);
  await c.query(`DELETE FROM bi_ods."AVIS_ETAPES_HANA" WHERE "NUM_AVIS" = $1`, [DEMO_NOTICE]);

  await insertRows(c, 'sic."HEXING_INFOS_ADMINISTRATIVES_NEW"', DEMO_PREPAID.map((p) => ({
    'N° COMPTEUR': p.meter, POC: p.police, tel: p.phone, 'N° CLIENT': `C${p.meter.slice(-6)}`, ADRESSE: p.address, usage: 'DOMESTIQUE', CLIENT: p.name, agence: DEMO_AGENCY.code,
  })));
  await insertRows(c, 'sic."HEXING_SENELECBILL_ALHDL2"', DEMO_PREPAID.flatMap((p) => salesOf(p, now)));
  await insertRows(c, 'sic."compteurs_postpaid"', DEMO_POSTPAID.map((p) => ({
    'COMPTE CONTRAT': p.account, 'N PARTENAIRE': p.partner, TELEPHONE: p.phone, ADRESSE: p.address, TARIF: 'DMP', CLIENT: `${p.lastName} ${p.firstName}`, AGENCE: DEMO_AGENCY.code,
  })));
  // IDHistorique is the table's key: the demo takes ids far above any the tests seed.
  await insertRows(c, 'histh2mc."Historique"', DEMO_POSTPAID.flatMap((p, i) => billsOf(p, now, 9_000_000 + 100 * i)));
  await insertRows(c, 'bi_ods."BUT000"', DEMO_POSTPAID.map((p) => ({ PARTNER: p.partner, NAME_LAST: p.lastName, NAME_FIRST: p.firstName, ADDRCOMM: p.partner })));
  await insertRows(c, 'bi_ods."FKKVKP"', DEMO_POSTPAID.map((p) => ({ VKONT: p.account, GPART: p.partner })));
  await insertRows(c, 'bi_ods."ADR2"', DEMO_POSTPAID.map((p) => ({ ADDRNUMBER: p.partner, TELNR_CALL: p.phone })));
  await insertRows(c, 'bi_ods."ADR6"', DEMO_POSTPAID.map((p) => ({ ADDRNUMBER: p.partner, SMTP_ADDR: p.email })));
  await insertRows(c, 'bi_ods."AVIS_ETAPES_HANA"', subscriptionSteps(now));
}

/**
 * Links the demo customer to their two meters as owner (the prepaid one by default), as the linking flow would,
 * unless a live link exists: a link the person ended while trying the demo comes back at the next start.
 */
async function linkDemoMeters(c: PoolClient, now: Date): Promise<void> {
  const mine = [
    { kind: 'prepaid' as const, meter: DEMO_PREPAID[0]!.meter, police: DEMO_PREPAID[0]!.police },
    { kind: 'postpaid' as const, meter: DEMO_POSTPAID[0]!.account, police: null },
  ];
  for (const link of mine) {
    await c.query(
      `INSERT INTO meter_links (id, user_id, kind, meter, police, agency_code, owner, state, is_default, created_at, decided_at)
       SELECT gen_random_uuid(), $1, $2, $3, $4, $5, true, 'active',
              NOT EXISTS (SELECT 1 FROM meter_links WHERE user_id = $1 AND is_default), $6, $6
        WHERE NOT EXISTS (SELECT 1 FROM meter_links WHERE user_id = $1 AND kind = $2 AND meter = $3 AND state IN ('pending', 'active'))`,
      [DEMO_CUSTOMER.id, link.kind, link.meter, link.police, DEMO_AGENCY.code, now],
    );
    await queueSicRegistration(c, link, now);
  }
}

/** Seeds the demo's utility data and links the demo customer's meters; the demo accounts must exist (seedDemoAccounts). */
export async function seedDemoCustomerData(db: PgHandle, now: Date): Promise<void> {
  await db.transaction(async (c) => {
    await seedTwins(c, now);
    await linkDemoMeters(c, now);
  });
}
