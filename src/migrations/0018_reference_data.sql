-- Up Migration

-- Reference data the app draws and the back office edits (issue 12): agencies, tariff thresholds, request types;
-- notification types exist since 0001. Every edit by an admin is kept in reference_audit.

-- An agency withdrawn from the list stays (users, links and requests name it) but is no longer offered.
ALTER TABLE agencies
  ADD COLUMN active boolean NOT NULL DEFAULT true,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- The bands of a tariff as the app colours a consumption: band 1 from kwh_min to kwh_max, and so on; the top band
-- is open (kwh_max null). Colours are #RRGGBB.
CREATE TABLE tariff_thresholds (
  tariff text NOT NULL CHECK (tariff ~ '^[A-Z0-9_]{1,16}$'),
  band smallint NOT NULL CHECK (band BETWEEN 1 AND 9),
  kwh_min numeric(10, 2) NOT NULL CHECK (kwh_min >= 0),
  kwh_max numeric(10, 2) NULL,
  colour text NOT NULL CHECK (colour ~ '^#[0-9A-Fa-f]{6}$'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tariff, band),
  CHECK (kwh_max IS NULL OR kwh_max > kwh_min)
);

-- The social bands of the low-voltage domestic tariffs (prepaid DPP, postpaid DMP): 0-150 kWh, 150-250, above.
INSERT INTO tariff_thresholds (tariff, band, kwh_min, kwh_max, colour) VALUES
  ('DPP', 1, 0, 150, '#2E7D32'),
  ('DPP', 2, 150, 250, '#F9A825'),
  ('DPP', 3, 250, NULL, '#C62828'),
  ('DMP', 1, 0, 150, '#2E7D32'),
  ('DMP', 2, 150, 250, '#F9A825'),
  ('DMP', 3, 250, NULL, '#C62828');

-- What a customer may file. `needs_meter`: the request is about one of the customer's meters (a meter problem);
-- otherwise it names an agency (a new connection). A type in use is withdrawn (active = false), never deleted.
CREATE TABLE request_types (
  code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
  label text NOT NULL,
  needs_meter boolean NOT NULL,
  active boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO request_types (code, label, needs_meter) VALUES
  ('complaint',       'Réclamation',                   false),
  ('meter_problem',   'Problème de compteur',          true),
  ('billing_dispute', 'Contestation de facture',       true),
  ('new_connection',  'Demande de branchement',        false),
  ('name_change',     'Changement de nom',             true),
  ('other',           'Autre demande',                 false);

-- Who changed which reference row, when, and from what to what (rows as JSON; null before a create, after a delete).
CREATE TABLE reference_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  actor_id uuid NOT NULL REFERENCES users (id),
  entity text NOT NULL CHECK (entity IN ('agency', 'tariff_threshold', 'notification_type', 'request_type')),
  entity_key text NOT NULL,
  action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  before jsonb NULL,
  after jsonb NULL
);
CREATE INDEX reference_audit_entity ON reference_audit (entity, entity_key, at DESC);

-- Down Migration

DROP TABLE reference_audit;
DROP TABLE request_types;
DROP TABLE tariff_thresholds;
ALTER TABLE agencies DROP COLUMN updated_at, DROP COLUMN active;
