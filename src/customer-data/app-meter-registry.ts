// The one write to a source: registering an app meter in SIC's compteurs_app_mobile, idempotently.
import { z } from 'zod';
import { sourceWrite } from '../adapters/mssql/source-query.js';
import { METER_KINDS, type MeterKind } from '../contracts/meters-messages.js';
import { utilityNumber } from './query-params.js';

/** SIC's type_compteur: 1 prepaid (Woyofal), 2 postpaid. */
const METER_TYPE_CODE: Readonly<Record<MeterKind, 1 | 2>> = { prepaid: 1, postpaid: 2 };

/**
 * Inserts only when the meter is absent, so a retry after a lost reply changes nothing (0 rows). On SQL Server the
 * UPDLOCK + HOLDLOCK hint holds the key range from the check to the insert, so two concurrent registrations of one
 * meter insert it once; the twin gets the same from its unique key.
 */
export const registerAppMeter = sourceWrite({
  name: 'register-app-meter',
  source: 'sic',
  input: z.object({
    meter: utilityNumber,
    type: z.enum(METER_KINDS).transform((kind) => METER_TYPE_CODE[kind]),
  }),
  tsql:
    'INSERT INTO [compteurs_app_mobile] ([numero], [type_compteur]) SELECT @meter, @type' +
    ' WHERE NOT EXISTS (SELECT 1 FROM [compteurs_app_mobile] WITH (UPDLOCK, HOLDLOCK) WHERE [numero] = @meter)',
  twin:
    'INSERT INTO sic."compteurs_app_mobile" ("numero", "type_compteur") VALUES (@meter, @type)' +
    ' ON CONFLICT ("numero") DO NOTHING',
});
