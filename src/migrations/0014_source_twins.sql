-- Up Migration

-- The twins of the utility's SQL Server tables (issue 11): the same table and column names as the real ones
-- (src/adapters/mssql/source-catalogue.ts lists them), one schema per source so they never meet the product's
-- tables. Development, the tests and the demo run each query's PostgreSQL twin over them; production runs its
-- T-SQL on the real databases. Their rows are synthetic.
-- Datetimes are timestamptz: the sources hold Dakar time, which is UTC all year, and timestamptz keeps pg from
-- reading them in the Node process's own zone.
CREATE SCHEMA sic;
CREATE SCHEMA histh2mc;
CREATE SCHEMA bi_ods;

-- Woyofal sales.
CREATE TABLE sic."HEXING_SENELECBILL_ALHDL2" (
  "NUMERO_COMMANDE" varchar(40) NOT NULL PRIMARY KEY,
  "NUMERO_COMPTEUR" varchar(32) NOT NULL,
  "POLICE" varchar(32) NOT NULL,
  "NOM_AGENCE_ENCAISSEMENT" varchar(100),
  "TARIF_USAGE" varchar(40),
  "DATE_TRANSACTION" timestamptz NOT NULL,
  "MONTANT_HT" numeric(18, 2),
  "MONTANT_TVA" numeric(18, 2),
  "MONTANT_TCO" numeric(18, 2),
  "MONTANT_TTC" numeric(18, 2) NOT NULL,
  "MONTANT_RECU" numeric(18, 2),
  "ENERGIE_VENDUE" numeric(18, 3),
  "DETTES" numeric(18, 2),
  "SOLDE_DETTE" numeric(18, 2),
  "NOM_OPERATEUR" varchar(100),
  "TOKEN" varchar(200),
  "ARRONDI" numeric(18, 2),
  "ENERGIE1" numeric(18, 3),
  "ENERGIE2" numeric(18, 3),
  "ENERGIE3" numeric(18, 3),
  "PRIX1" numeric(18, 4),
  "PRIX2" numeric(18, 4),
  "PRIX3" numeric(18, 4),
  "MONTANT1" numeric(18, 2),
  "MONTANT2" numeric(18, 2),
  "MONTANT3" numeric(18, 2)
);
CREATE INDEX hexing_sales_of_meter ON sic."HEXING_SENELECBILL_ALHDL2" ("NUMERO_COMPTEUR", "POLICE", "DATE_TRANSACTION");

-- Prepaid customers.
CREATE TABLE sic."HEXING_INFOS_ADMINISTRATIVES_NEW" (
  "N° COMPTEUR" varchar(32) NOT NULL,
  "POC" varchar(32) NOT NULL,
  "tel" varchar(32),
  "N° CLIENT" varchar(32),
  "ADRESSE" varchar(200),
  "usage" varchar(40),
  "CLIENT" varchar(100),
  "agence" varchar(60)
);
CREATE INDEX hexing_infos_meter ON sic."HEXING_INFOS_ADMINISTRATIVES_NEW" ("N° COMPTEUR");

-- A view in SIC; a table is enough for its twin.
CREATE TABLE sic."compteurs_postpaid" (
  "COMPTE CONTRAT" varchar(32) NOT NULL,
  "N PARTENAIRE" varchar(32),
  "TELEPHONE" varchar(32),
  "ADRESSE" varchar(200),
  "TARIF" varchar(40),
  "CLIENT" varchar(100),
  "AGENCE" varchar(60)
);
CREATE INDEX compteurs_postpaid_account ON sic."compteurs_postpaid" ("COMPTE CONTRAT");

-- Meters registered by the app. The unique key is what the twin's idempotent insert rests on (ON CONFLICT); the
-- T-SQL gets the same from its locking hints.
CREATE TABLE sic."compteurs_app_mobile" (
  "numero" varchar(32) NOT NULL UNIQUE,
  "type_compteur" integer NOT NULL CHECK ("type_compteur" IN (1, 2))
);

-- Postpaid bills.
CREATE TABLE histh2mc."Historique" (
  "IDHistorique" bigint NOT NULL PRIMARY KEY,
  "numFact" varchar(32) NOT NULL,
  "numCC" varchar(32) NOT NULL,
  "numPartenaire" varchar(32),
  "DATFACT" timestamptz NOT NULL,
  "DATEECH" timestamptz,
  "moisFacturation" integer NOT NULL,
  "anneeFacturation" integer NOT NULL,
  "BT_CONSOM1" numeric(18, 3),
  "BT_CONSOM2" numeric(18, 3),
  "BT_CONSOM3" numeric(18, 3),
  "BT_CONSTOT" numeric(18, 3),
  "BT_MONT_HT" numeric(18, 2),
  "BT_MONT_TTC" numeric(18, 2),
  "BT_MONT_TCO" numeric(18, 2),
  "BT_TOTALFACTUR" numeric(18, 2),
  "MONT_TVA" numeric(18, 2),
  "MONT_TTC" numeric(18, 2),
  "MONT_TCO" numeric(18, 2),
  "TOTALFACT" numeric(18, 2) NOT NULL,
  "NBJRS_" integer,
  "NOCPTEUR" varchar(32),
  "NOMPRES" varchar(100),
  "ADD_LIV" varchar(200),
  "TARIF" varchar(40),
  "PMAX" numeric(18, 3),
  "TYPEFACT" varchar(20),
  "AGENCE" varchar(60),
  "typeClientele" varchar(40)
);
CREATE INDEX historique_of_account ON histh2mc."Historique" ("numCC", "DATFACT");

-- SAP business partners: numbers are zero-padded (accounts 12 digits, partners and addresses 10).
CREATE TABLE bi_ods."BUT000" (
  "PARTNER" varchar(10) NOT NULL PRIMARY KEY,
  "NAME_LAST" varchar(40),
  "NAME_FIRST" varchar(40),
  "ADDRCOMM" varchar(10)
);

CREATE TABLE bi_ods."FKKVKP" (
  "VKONT" varchar(12) NOT NULL,
  "GPART" varchar(10) NOT NULL,
  PRIMARY KEY ("VKONT", "GPART")
);

CREATE TABLE bi_ods."ADR2" (
  "ADDRNUMBER" varchar(10) NOT NULL,
  "TELNR_CALL" varchar(30)
);
CREATE INDEX adr2_address ON bi_ods."ADR2" ("ADDRNUMBER");

CREATE TABLE bi_ods."ADR6" (
  "ADDRNUMBER" varchar(10) NOT NULL,
  "SMTP_ADDR" varchar(241)
);
CREATE INDEX adr6_address ON bi_ods."ADR6" ("ADDRNUMBER");

-- Steps of subscription requests; DATE_TERM (YYYYMMDD) and HEURE_TERM (HHMMSS) stay empty until a step is done.
CREATE TABLE bi_ods."AVIS_ETAPES_HANA" (
  "NUM_AVIS" varchar(20) NOT NULL,
  "CODE_ETAPE" integer NOT NULL,
  "DESC_ETAPE" varchar(200),
  "DATE_TERM" varchar(8),
  "HEURE_TERM" varchar(6),
  "NUM_PARTENAIRE" varchar(10),
  "PRENOM" varchar(40),
  "NOM" varchar(40),
  "TELEPHONE" varchar(32),
  "STATUT_AVIS" varchar(40),
  "DT_DERNIERE_MAJ" timestamptz,
  PRIMARY KEY ("NUM_AVIS", "CODE_ETAPE")
);

-- Down Migration

DROP SCHEMA bi_ods CASCADE;
DROP SCHEMA histh2mc CASCADE;
DROP SCHEMA sic CASCADE;
