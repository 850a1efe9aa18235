// A linked meter's data (purchases, bills, monthly totals, contract): rule 5 on the link first, then the named reads.
import type { Caller } from '../contracts/caller.js';
import {
  BILLS_DEFAULT_LIMIT,
  PURCHASES_DEFAULT_LIMIT,
  type Bills,
  type Contract,
  type ListQuery,
  type MonthlyBills,
  type MonthlyPurchases,
  type MonthlyQuery,
  type Purchases,
} from '../contracts/meter-data-messages.js';
import {
  type CustomerDataAnswer,
  type CustomerDataReader,
  billsInPeriod,
  contractDetails,
  latestBills,
  latestPurchases,
  monthlyBills,
  monthlyPurchases,
  postpaidAccount,
  prepaidCustomer,
  asSourceOutage,
  purchasesInPeriod,
  staleness,
} from '../customer-data/index.js';
import type { ParamShape, QueryInput, SourceRead } from '../adapters/mssql/source-query.js';
import type { Clock } from '../clock.js';
import { type LinkMemory, type MeterLinkRecord, type Queryable, readableLink } from './meter-access.js';
import { MeterKindMismatchError } from './meter-link-errors.js';

export interface MeterReadsDeps {
  /** The database the links are read from; rejects with DATABASE_UNAVAILABLE while PostgreSQL is down. */
  readonly db: () => Promise<Queryable>;
  /** The process's active links (link-cache.ts), so a repeated check needs no PostgreSQL; none: every check loads. */
  readonly links?: LinkMemory;
  readonly reader: Pick<CustomerDataReader, 'read'>;
  /** The current year of monthly totals is the clock's (UTC, which is Dakar time). */
  readonly clock: Clock;
}

/** The twelve months of a year, each with the source's totals or zeros. */
function twelveMonths<R extends { month: number }>(rows: readonly R[], empty: (month: number) => R): R[] {
  const byMonth = new Map(rows.map((r) => [r.month, r]));
  return Array.from({ length: 12 }, (_, i) => byMonth.get(i + 1) ?? empty(i + 1));
}

const sum = <R>(rows: readonly R[], field: (r: R) => number): number => rows.reduce((total, r) => total + field(r), 0);

export class MeterReads {
  constructor(private readonly deps: MeterReadsDeps) {}

  async purchases(caller: Caller, linkId: string, query: ListQuery): Promise<Purchases> {
    const link = await this.link(caller, linkId, 'prepaid', 'purchases');
    const meter = { meter: link.meter, police: link.police ?? '' };
    const limit = query.limit ?? PURCHASES_DEFAULT_LIMIT;
    const answer = await (query.from && query.to
      ? this.read(purchasesInPeriod, { ...meter, from: query.from, to: query.to, limit })
      : this.read(latestPurchases, { ...meter, limit }));
    return { linkId: link.id, meter: link.meter, purchases: answer.rows, ...staleness(answer) };
  }

  async monthlyPurchases(caller: Caller, linkId: string, query: MonthlyQuery): Promise<MonthlyPurchases> {
    const link = await this.link(caller, linkId, 'prepaid', 'purchases');
    const year = query.year ?? this.currentYear();
    const answer = await this.read(monthlyPurchases, { meter: link.meter, police: link.police ?? '', year });
    const months = twelveMonths(answer.rows, (month) => ({ month, purchases: 0, amountPaidFcfa: 0, energyKwh: 0 }));
    const total = { purchases: sum(months, (m) => m.purchases), amountPaidFcfa: sum(months, (m) => m.amountPaidFcfa), energyKwh: sum(months, (m) => m.energyKwh) };
    return { linkId: link.id, year, months, total, ...staleness(answer) };
  }

  async bills(caller: Caller, linkId: string, query: ListQuery): Promise<Bills> {
    const link = await this.link(caller, linkId, 'postpaid', 'bills');
    const limit = query.limit ?? BILLS_DEFAULT_LIMIT;
    const answer = await (query.from && query.to
      ? this.read(billsInPeriod, { account: link.meter, from: query.from, to: query.to, limit })
      : this.read(latestBills, { account: link.meter, limit }));
    return { linkId: link.id, contractAccount: link.meter, bills: answer.rows, ...staleness(answer) };
  }

  async monthlyBills(caller: Caller, linkId: string, query: MonthlyQuery): Promise<MonthlyBills> {
    const link = await this.link(caller, linkId, 'postpaid', 'bills');
    const year = query.year ?? this.currentYear();
    const answer = await this.read(monthlyBills, { account: link.meter, year });
    const months = twelveMonths(answer.rows, (month) => ({ month, bills: 0, totalFcfa: 0, energyKwh: 0 }));
    const total = { bills: sum(months, (m) => m.bills), totalFcfa: sum(months, (m) => m.totalFcfa), energyKwh: sum(months, (m) => m.energyKwh) };
    return { linkId: link.id, year, months, total, ...staleness(answer) };
  }

  async contract(caller: Caller, linkId: string): Promise<Contract> {
    const link = await readableLink(this.deps.db, caller, linkId, this.deps.links);
    const contract = await (link.kind === 'prepaid' ? this.prepaidContract(link) : this.postpaidContract(link));
    // The holder's phone and e-mail are theirs: the owner, agents and admins see them; a customer the owner let read
    // the meter's data sees the contract without them.
    if (caller.role === 'customer' && !link.owner) return { ...contract, phone: null, ...(contract.kind === 'postpaid' ? { email: null } : {}) };
    return contract;
  }

  private async prepaidContract(link: MeterLinkRecord): Promise<Contract> {
    const answer = await this.read(prepaidCustomer, { meter: link.meter });
    // A meter may carry a former customer's row beside the current one: the link's is the row of its POC.
    const customer = answer.rows.find((row) => row.police === link.police);
    return {
      kind: 'prepaid',
      linkId: link.id,
      meterNumber: link.meter,
      police: customer?.police ?? link.police,
      customerNumber: customer?.customerNumber ?? null,
      usage: customer?.usage ?? null,
      name: customer?.name ?? null,
      address: customer?.address ?? null,
      agency: customer?.agency ?? link.agency,
      phone: customer?.phone ?? null,
      ...staleness(answer),
    };
  }

  private async postpaidContract(link: MeterLinkRecord): Promise<Contract> {
    // The account (SIC) and its holder (BI_ODS) are two sources: read side by side, each stale on its own.
    const [account, holder] = await Promise.all([
      this.read(postpaidAccount, { account: link.meter }),
      this.read(contractDetails, { account: link.meter }),
    ]);
    const a = account.rows[0];
    const h = holder.rows[0];
    return {
      kind: 'postpaid',
      linkId: link.id,
      contractAccount: link.meter,
      partner: h?.partner ?? a?.partner ?? null,
      firstName: h?.firstName ?? null,
      lastName: h?.lastName ?? null,
      email: h?.email ?? null,
      tariff: a?.tariff ?? null,
      name: a?.name ?? ([h?.firstName, h?.lastName].filter(Boolean).join(' ') || null),
      address: a?.address ?? null,
      agency: a?.agency ?? link.agency,
      phone: h?.phone ?? a?.phone ?? null,
      ...staleness(account, holder),
    };
  }

  /** The caller's readable link (else the one 404), of the kind the read needs (else METER_KIND_MISMATCH). */
  private async link(caller: Caller, linkId: string, kind: MeterLinkRecord['kind'], wanted: string): Promise<MeterLinkRecord> {
    const link = await readableLink(this.deps.db, caller, linkId, this.deps.links);
    if (link.kind !== kind) throw new MeterKindMismatchError(link.kind, wanted);
    return link;
  }

  /** One named read through the cache; its source's outage as the source's typed error (customer-data's source-outage.ts). */
  private async read<S extends ParamShape, R>(query: SourceRead<S, R>, input: QueryInput<S>): Promise<CustomerDataAnswer<R>> {
    try {
      return await this.deps.reader.read(query, input);
    } catch (error) {
      throw asSourceOutage(query, error);
    }
  }

  private currentYear(): number {
    return new Date(this.deps.clock.now()).getUTCFullYear();
  }
}
