-- Up Migration

-- Customer requests ("demandes", DOMAIN.md rule 6) with an optional attachment in object storage (issue 12).
-- The agency handles it: the meter link's agency, or the one the customer named for a request without a meter.
-- The agency is not a foreign key: a meter's agency comes from SIC and need not be in the app's list.
CREATE TABLE requests (
  id uuid PRIMARY KEY,
  -- Null once the author's account is deleted (the request is kept, anonymised).
  author_id uuid NULL REFERENCES users (id),
  type text NOT NULL REFERENCES request_types (code),
  link_id uuid NULL REFERENCES meter_links (id),
  -- Copied from the link when filed: the link may end, the request stays about that meter.
  meter text NULL,
  meter_kind text NULL CHECK (meter_kind IN ('prepaid', 'postpaid')),
  agency_code text NOT NULL,
  comment text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'rejected')),
  -- The latest reply of the agency (each one is in request_history).
  reply text NULL,
  -- The attachment: an unguessable object key, its sniffed media type, size in bytes and SHA-256 (hex).
  attachment_key text NULL UNIQUE,
  attachment_type text NULL,
  attachment_bytes bigint NULL CHECK (attachment_bytes > 0),
  attachment_sha256 text NULL,
  -- Set when the object was deleted (retention after the author's account was deleted).
  attachment_deleted_at timestamptz NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  anonymised_at timestamptz NULL,
  CHECK ((link_id IS NULL) = (meter IS NULL) AND (meter IS NULL) = (meter_kind IS NULL)),
  CHECK ((attachment_key IS NULL) = (attachment_type IS NULL) AND (attachment_key IS NULL) = (attachment_bytes IS NULL)),
  CHECK (author_id IS NOT NULL OR anonymised_at IS NOT NULL)
);
-- A customer's own requests, newest first (cursor pages on (created_at, id)).
CREATE INDEX requests_author ON requests (author_id, created_at DESC, id DESC) WHERE author_id IS NOT NULL;
-- An agency's requests by status, newest first (the agents' list and the dashboard's counts).
CREATE INDEX requests_agency_status ON requests (agency_code, status, created_at DESC, id DESC);
-- Every request by status (the admin's list and the dashboard across agencies).
CREATE INDEX requests_status ON requests (status, created_at DESC, id DESC);
-- Attachments of anonymised requests still to delete after the retention.
CREATE INDEX requests_attachment_retention ON requests (anonymised_at) WHERE attachment_key IS NOT NULL AND attachment_deleted_at IS NULL AND anonymised_at IS NOT NULL;

-- Each change of a request: who (null for the author filing it), when, the status before and after, the reply.
CREATE TABLE request_history (
  id bigserial PRIMARY KEY,
  request_id uuid NOT NULL REFERENCES requests (id),
  at timestamptz NOT NULL,
  by_user uuid NULL REFERENCES users (id),
  by_role text NOT NULL CHECK (by_role IN ('customer', 'agent', 'admin')),
  from_status text NULL,
  to_status text NOT NULL,
  reply text NULL
);
CREATE INDEX request_history_request ON request_history (request_id, at, id);

-- An upload in progress: written (and committed) before the first byte goes to storage, deleted in the transaction
-- that inserts the request row. A row left here past the sweep's age is an object no request points to (the
-- insert failed, the process died mid-upload): the sweep deletes the object, then the row.
CREATE TABLE attachment_uploads (
  object_key text PRIMARY KEY,
  started_at timestamptz NOT NULL
);
CREATE INDEX attachment_uploads_started ON attachment_uploads (started_at);

-- Down Migration

DROP TABLE attachment_uploads;
DROP TABLE request_history;
DROP TABLE requests;
