// Reference data: small tables any signed-in user reads often, served through the shared cache, and the admins'
// edits — each audited in its own transaction, then the entity's cache entry dropped for every API instance.
import type { PoolClient } from 'pg';
import type { Caller } from '../contracts/caller.js';
import type {
  Agency,
  CreateAgencyInput,
  CreateRequestTypeInput,
  NotificationTypeEdit,
  PutNotificationTypeInput,
  PutTariffThresholdInput,
  ReferenceEntity,
  RequestType,
  TariffThreshold,
  UpdateAgencyInput,
  UpdateRequestTypeInput,
  Upserted,
} from '../contracts/reference-messages.js';
import type { Clock } from '../clock.js';
import type { NotificationType } from '../domain/notification-type.js';
import { loadNotificationTypes } from '../notifications/index.js';
import type { Resources } from '../resources.js';
import { createAgency, deleteAgency, loadAgencies, updateAgency } from './agencies.js';
import { putNotificationType } from './notification-type-edits.js';
import { audited, type Change } from './reference-audit.js';
import { ReferenceForbiddenError } from './reference-errors.js';
import { createRequestType, deleteRequestType, loadRequestTypes, updateRequestType } from './request-types.js';
import { deleteTariffThreshold, loadTariffThresholds, putTariffThreshold } from './tariff-thresholds.js';

/** Reference data changes rarely; an edit drops its entry at once, the TTL bounds what a lost drop leaves. */
export const REFERENCE_TTL_MS = 60_000;

/**
 * One entry per entity holding every row (withdrawn ones too; reads filter). `:v1` is the shape's version: a release
 * that changes a row's shape bumps it, and never reads what an older one cached. Each key is followed by the entity's
 * current edit version (kept in the cache under the key + `:version`), which every edit moves on.
 */
export const REFERENCE_CACHE_KEYS: Readonly<Record<ReferenceEntity, string>> = {
  agency: 'reference:agencies:v1',
  tariff_threshold: 'reference:tariff-thresholds:v1',
  notification_type: 'reference:notification-types:v1',
  request_type: 'reference:request-types:v1',
};

/** How long an edit version is remembered: far beyond any entry's TTL, so an entry never outlives its version. */
const VERSION_TTL_MS = 7 * 86_400_000;

export interface ReferenceDeps {
  readonly res: Pick<Resources, 'db' | 'cached' | 'cacheVersion' | 'bumpCacheVersion'>;
  readonly clock: Clock;
}

export class ReferenceService {
  constructor(private readonly deps: ReferenceDeps) {}

  notificationTypes(): Promise<NotificationType[]> {
    return this.read('notification_type', loadNotificationTypes);
  }

  /** The active agencies; every one with `all` (admins only). */
  async agencies(caller: Caller, all: boolean): Promise<Agency[]> {
    return activeUnless(all, caller, await this.read('agency', loadAgencies));
  }

  /** Every tariff's bands, or one tariff's (none when it has none). */
  async tariffThresholds(tariff: string | undefined): Promise<TariffThreshold[]> {
    const rows = await this.read('tariff_threshold', loadTariffThresholds);
    return tariff === undefined ? rows : rows.filter((r) => r.tariff === tariff);
  }

  /** The active request types; every one with `all` (admins only). */
  async requestTypes(caller: Caller, all: boolean): Promise<RequestType[]> {
    return activeUnless(all, caller, await this.read('request_type', loadRequestTypes));
  }

  createAgency(caller: Caller, input: CreateAgencyInput): Promise<Agency> {
    return this.edit(caller, 'agency', input.code, (c, at) => createAgency(c, input, at));
  }

  updateAgency(caller: Caller, code: string, input: UpdateAgencyInput): Promise<Agency> {
    return this.edit(caller, 'agency', code, (c, at) => updateAgency(c, code, input, at));
  }

  deleteAgency(caller: Caller, code: string): Promise<void> {
    return this.edit(caller, 'agency', code, (c) => deleteAgency(c, code));
  }

  putTariffThreshold(caller: Caller, tariff: string, band: number, input: PutTariffThresholdInput): Promise<Upserted<TariffThreshold>> {
    return this.edit(caller, 'tariff_threshold', `${tariff}/${band}`, (c, at) => putTariffThreshold(c, tariff, band, input, at));
  }

  deleteTariffThreshold(caller: Caller, tariff: string, band: number): Promise<void> {
    return this.edit(caller, 'tariff_threshold', `${tariff}/${band}`, (c) => deleteTariffThreshold(c, tariff, band));
  }

  putNotificationType(caller: Caller, code: string, input: PutNotificationTypeInput): Promise<Upserted<NotificationTypeEdit>> {
    return this.edit(caller, 'notification_type', code, (c) => putNotificationType(c, code, input));
  }

  createRequestType(caller: Caller, input: CreateRequestTypeInput): Promise<RequestType> {
    return this.edit(caller, 'request_type', input.code, (c, at) => createRequestType(c, input, at));
  }

  updateRequestType(caller: Caller, code: string, input: UpdateRequestTypeInput): Promise<RequestType> {
    return this.edit(caller, 'request_type', code, (c, at) => updateRequestType(c, code, input, at));
  }

  deleteRequestType(caller: Caller, code: string): Promise<void> {
    return this.edit(caller, 'request_type', code, (c) => deleteRequestType(c, code));
  }

  private async read<T>(entity: ReferenceEntity, load: (db: Awaited<ReturnType<Resources['db']>>) => Promise<T>): Promise<T> {
    const key = REFERENCE_CACHE_KEYS[entity];
    const version = await this.deps.res.cacheVersion(`${key}:version`);
    // Unknown version (the cache failing): an entry found now might predate the last edit, so the database answers.
    if (version === undefined) return load(await this.deps.res.db());
    return this.deps.res.cached(`${key}:${version}`, REFERENCE_TTL_MS, async () => load(await this.deps.res.db()));
  }

  /**
   * An admin's edit and its audit row in one transaction; after the commit the entity moves to a new cache version
   * (shared Redis: for every instance). A read that took the old version and loaded the old rows before the commit
   * stores them under the old version, which nobody reads any more: unlike deleting the entry, no race brings it back.
   */
  private async edit<T>(caller: Caller, entity: ReferenceEntity, key: string, change: (client: PoolClient, at: Date) => Promise<Change<T>>): Promise<T> {
    if (caller.role !== 'admin') throw new ReferenceForbiddenError();
    const at = new Date(this.deps.clock.now());
    const db = await this.deps.res.db();
    const result = await audited(db, { at, actorId: caller.userId, entity, key }, (client) => change(client, at));
    await this.deps.res.bumpCacheVersion(`${REFERENCE_CACHE_KEYS[entity]}:version`, VERSION_TTL_MS);
    return result;
  }
}

function activeUnless<T extends { active: boolean }>(all: boolean, caller: Caller, rows: T[]): T[] {
  if (!all) return rows.filter((r) => r.active);
  if (caller.role !== 'admin') throw new ReferenceForbiddenError('Only admins list withdrawn reference data.');
  return rows;
}
