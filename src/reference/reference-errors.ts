// The reference data's errors: each maps to its status in src/errors/error-codes.ts.
import { AppError, type ProblemField } from '../errors/app-error.js';

/** Edits are the admins' alone (reads are everyone's); also a non-admin asking for withdrawn rows. 403. */
export class ReferenceForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor(what = 'Only admins edit reference data.') {
    super(what);
  }
}

export class AgencyNotFoundError extends AppError {
  readonly code = 'AGENCY_NOT_FOUND';
  constructor(readonly agency: string) {
    super('No agency with this code.');
  }
}

export class AgencyExistsError extends AppError {
  readonly code = 'AGENCY_EXISTS';
  constructor(readonly agency: string) {
    super('An agency with this code exists already.');
  }
}

/** Users, meter links, requests or notification jobs name the agency: withdraw it (active = false) instead. */
export class AgencyInUseError extends AppError {
  readonly code = 'AGENCY_IN_USE';
  constructor(readonly agency: string) {
    super('Users, meter links, requests or notifications name this agency: withdraw it (PUT with "active": false) instead of deleting it.');
  }
}

export class TariffBandNotFoundError extends AppError {
  readonly code = 'TARIFF_BAND_NOT_FOUND';
  constructor(readonly tariff: string, readonly band: number) {
    super('No such band for this tariff.');
  }
}

/** The edit would leave the tariff's bands overlapping or with a gap; `fields` names what clashes. 409. */
export class TariffBandsConflictError extends AppError {
  readonly code = 'TARIFF_BANDS_CONFLICT';
  constructor(readonly tariff: string, readonly fields: readonly ProblemField[]) {
    super(`The bands of tariff ${tariff} would no longer be contiguous and non-overlapping: ${fields.map((f) => f.message).join('; ')}.`);
  }
}

export class RequestTypeNotFoundError extends AppError {
  readonly code = 'REQUEST_TYPE_NOT_FOUND';
  constructor(readonly requestType: string) {
    super('No request type with this code.');
  }
}

export class RequestTypeExistsError extends AppError {
  readonly code = 'REQUEST_TYPE_EXISTS';
  constructor(readonly requestType: string) {
    super('A request type with this code exists already.');
  }
}

/** Requests of this type exist: withdraw it (active = false) instead. */
export class RequestTypeInUseError extends AppError {
  readonly code = 'REQUEST_TYPE_IN_USE';
  constructor(readonly requestType: string) {
    super('Requests of this type exist: withdraw it (PUT with "active": false) instead of deleting it.');
  }
}
