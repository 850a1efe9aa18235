-- Up Migration

-- A user's link to a meter (DOMAIN.md rule 4). A prepaid meter is its SIC meter number (with its POC, which its
-- sales are matched on); a postpaid one is its contract account. The meter's agency is copied from SIC at link time:
-- agents see and act on the links of their agency, and an agency's notifications reach customers through them.
-- `owner`: the phone on file matched the user's proved phone (active at once); otherwise the link is pending until
-- the owner or an agent of the agency decides. A link is never deleted: it ends (by its user, or with the account).
CREATE TABLE meter_links (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  kind text NOT NULL CHECK (kind IN ('prepaid', 'postpaid')),
  meter text NOT NULL,
  police text NULL,
  agency_code text NULL,
  owner boolean NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'active', 'rejected', 'ended')),
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  decided_at timestamptz NULL,
  decided_by uuid NULL REFERENCES users (id),
  ended_at timestamptz NULL,
  CHECK (kind = 'postpaid' OR police IS NOT NULL),
  CHECK (NOT is_default OR state = 'active'),
  CHECK (NOT owner OR state IN ('active', 'ended'))
);
-- One live link per user and meter: a second one is a 409.
CREATE UNIQUE INDEX meter_links_live ON meter_links (user_id, kind, meter) WHERE state IN ('pending', 'active');
-- At most one default meter per user.
CREATE UNIQUE INDEX meter_links_default ON meter_links (user_id) WHERE is_default;
-- The holders of a meter (its owner, the `meter` notification target).
CREATE INDEX meter_links_meter ON meter_links (meter, kind) WHERE state = 'active';
-- An agency's pending requests, oldest first; its customers (the `agency` target, the inbox's broadcast scope).
CREATE INDEX meter_links_agency_pending ON meter_links (agency_code, created_at) WHERE state = 'pending';
CREATE INDEX meter_links_agency_active ON meter_links (agency_code, user_id) WHERE state = 'active';
-- A user's own links, newest first.
CREATE INDEX meter_links_user ON meter_links (user_id, created_at);

-- The one write to a source (DESIGN.md 5): registering a meter in SIC's compteurs_app_mobile, as an outbox retried
-- until SIC accepts it, so a link never fails because SIC is down. One row per meter, whoever linked it.
CREATE TABLE sic_registrations (
  kind text NOT NULL CHECK (kind IN ('prepaid', 'postpaid')),
  meter text NOT NULL,
  created_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  registered_at timestamptz NULL,
  last_error text NULL,
  PRIMARY KEY (kind, meter)
);
CREATE INDEX sic_registrations_due ON sic_registrations (next_attempt_at) WHERE registered_at IS NULL;

-- Notifications the product sends on its own account (a meter access request, a link decided) are jobs like the
-- others, written in the transaction of what caused them; `system` jobs name the user whose act caused them.
-- A `meter` target reaches every user with an active link to the meter.
ALTER TABLE notification_jobs DROP CONSTRAINT notification_jobs_caller_role_check;
ALTER TABLE notification_jobs ADD CONSTRAINT notification_jobs_caller_role_check CHECK (caller_role IN ('agent', 'admin', 'system'));
ALTER TABLE notification_jobs DROP CONSTRAINT notification_jobs_target_check;
ALTER TABLE notification_jobs ADD CONSTRAINT notification_jobs_target_check
  CHECK (target ->> 'kind' IN ('user', 'users', 'meter', 'agency', 'all_agencies', 'everyone'));

-- Down Migration

ALTER TABLE notification_jobs DROP CONSTRAINT notification_jobs_target_check;
ALTER TABLE notification_jobs ADD CONSTRAINT notification_jobs_target_check
  CHECK (target ->> 'kind' IN ('user', 'users', 'agency', 'all_agencies', 'everyone'));
ALTER TABLE notification_jobs DROP CONSTRAINT notification_jobs_caller_role_check;
ALTER TABLE notification_jobs ADD CONSTRAINT notification_jobs_caller_role_check CHECK (caller_role IN ('agent', 'admin'));
DROP TABLE sic_registrations;
DROP TABLE meter_links;
