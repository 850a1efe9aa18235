// The steps of a subscription request ("avis") in BI_ODS dbo.AVIS_ETAPES_HANA, in their order.
import { z } from 'zod';
import { isoInstant, keyNumber, optionalText, phoneOnFile, whole } from '../adapters/mssql/source-values.js';
import { sourceRead, tsqlColumns, twinColumns } from '../adapters/mssql/source-query.js';
import { utilityNumber } from './query-params.js';

/**
 * When a step was done, from the HANA export's DATE_TERM (YYYYMMDD) and HEURE_TERM (HHMMSS): null while they are
 * empty (blank, or SAP's zero date), and for anything that is not a real date.
 */
export function stepDoneAt(date: string | null, time: string | null): string | null {
  const d = date?.trim() ?? '';
  if (!/^\d{8}$/.test(d) || /^0+$/.test(d)) return null;
  const given = time?.trim() ?? '';
  const t = /^\d{6}$/.test(given) ? given : '000000';
  const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`;
  const parsed = new Date(iso);
  return Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 19) !== iso.slice(0, 19) ? null : parsed.toISOString();
}

const COLUMNS = [
  'NUM_AVIS', 'CODE_ETAPE', 'DESC_ETAPE', 'DATE_TERM', 'HEURE_TERM', 'NUM_PARTENAIRE', 'PRENOM', 'NOM', 'TELEPHONE',
  'STATUT_AVIS', 'DT_DERNIERE_MAJ',
];

export const subscriptionSteps = sourceRead({
  name: 'subscription-steps',
  source: 'bi_ods',
  input: z.object({ notice: utilityNumber }),
  tsql: `SELECT ${tsqlColumns(COLUMNS)} FROM [dbo].[AVIS_ETAPES_HANA] WHERE [NUM_AVIS] = @notice ORDER BY [CODE_ETAPE]`,
  twin: `SELECT ${twinColumns(COLUMNS)} FROM bi_ods."AVIS_ETAPES_HANA" WHERE "NUM_AVIS" = @notice ORDER BY "CODE_ETAPE"`,
  map: z
    .object({
      NUM_AVIS: z.string().trim(),
      CODE_ETAPE: whole,
      DESC_ETAPE: optionalText,
      DATE_TERM: z.string().nullable(),
      HEURE_TERM: z.string().nullable(),
      NUM_PARTENAIRE: keyNumber.nullable(),
      PRENOM: optionalText,
      NOM: optionalText,
      TELEPHONE: phoneOnFile,
      STATUT_AVIS: optionalText,
      DT_DERNIERE_MAJ: isoInstant.nullable(),
    })
    .transform((row) => ({
      noticeNumber: row.NUM_AVIS,
      step: row.CODE_ETAPE,
      description: row.DESC_ETAPE,
      doneAt: stepDoneAt(row.DATE_TERM, row.HEURE_TERM),
      partner: row.NUM_PARTENAIRE,
      firstName: row.PRENOM,
      lastName: row.NOM,
      // In E.164: a request is shown only to whoever gives this phone (DOMAIN.md).
      phone: row.TELEPHONE,
      requestStatus: row.STATUT_AVIS,
      updatedAt: row.DT_DERNIERE_MAJ,
    })),
});

export type SubscriptionStep = z.output<typeof subscriptionSteps.map>;
