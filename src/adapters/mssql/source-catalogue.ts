// The utility's real SQL Server tables and columns (DOMAIN.md) that T-SQL texts are checked against and twins mirror.

const numbered = (prefix: string): string[] => [1, 2, 3].map((band) => `${prefix}${band}`);

// Committed by hand. Names are exact: the twins' quoted identifiers are case-sensitive, so one spelling keeps the
// T-SQL (checked against this) and its twin (migration 0014, one schema per source) in step.
export const SOURCE_CATALOGUE = {
  sic: {
    HEXING_SENELECBILL_ALHDL2: [
      'NUMERO_COMMANDE', 'NUMERO_COMPTEUR', 'POLICE', 'NOM_AGENCE_ENCAISSEMENT', 'TARIF_USAGE', 'DATE_TRANSACTION',
      'MONTANT_HT', 'MONTANT_TVA', 'MONTANT_TCO', 'MONTANT_TTC', 'MONTANT_RECU', 'ENERGIE_VENDUE', 'DETTES',
      'SOLDE_DETTE', 'NOM_OPERATEUR', 'TOKEN', 'ARRONDI', ...numbered('ENERGIE'), ...numbered('PRIX'), ...numbered('MONTANT'),
    ],
    HEXING_INFOS_ADMINISTRATIVES_NEW: ['N° COMPTEUR', 'POC', 'tel', 'N° CLIENT', 'ADRESSE', 'usage', 'CLIENT', 'agence'],
    // A view in SIC; its twin is a table.
    compteurs_postpaid: ['COMPTE CONTRAT', 'N PARTENAIRE', 'TELEPHONE', 'ADRESSE', 'TARIF', 'CLIENT', 'AGENCE'],
    compteurs_app_mobile: ['numero', 'type_compteur'],
  },
  histh2mc: {
    Historique: [
      'IDHistorique', 'numFact', 'numCC', 'numPartenaire', 'DATFACT', 'DATEECH', 'moisFacturation', 'anneeFacturation',
      ...numbered('BT_CONSOM'), 'BT_CONSTOT', 'BT_MONT_HT', 'BT_MONT_TTC', 'BT_MONT_TCO', 'BT_TOTALFACTUR', 'MONT_TVA',
      'MONT_TTC', 'MONT_TCO', 'TOTALFACT', 'NBJRS_', 'NOCPTEUR', 'NOMPRES', 'ADD_LIV', 'TARIF', 'PMAX', 'TYPEFACT',
      'AGENCE', 'typeClientele',
    ],
  },
  bi_ods: {
    BUT000: ['PARTNER', 'NAME_LAST', 'NAME_FIRST', 'ADDRCOMM'],
    FKKVKP: ['VKONT', 'GPART'],
    ADR2: ['ADDRNUMBER', 'TELNR_CALL'],
    ADR6: ['ADDRNUMBER', 'SMTP_ADDR'],
    AVIS_ETAPES_HANA: [
      'NUM_AVIS', 'CODE_ETAPE', 'DESC_ETAPE', 'DATE_TERM', 'HEURE_TERM', 'NUM_PARTENAIRE', 'PRENOM', 'NOM', 'TELEPHONE',
      'STATUT_AVIS', 'DT_DERNIERE_MAJ',
    ],
  },
} as const satisfies Record<string, Record<string, readonly string[]>>;

/** A source database, by the name its actor, its readiness entry and its twin schema carry. */
export type SourceName = keyof typeof SOURCE_CATALOGUE;
