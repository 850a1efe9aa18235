-- Up Migration

-- The inbox: what GET /v1/me/notifications lists. Targeted notifications get one row per user (inbox_entries);
-- a broadcast (an agency, all agencies, everyone) is stored ONCE (broadcasts) and joined at read time, with a
-- row in broadcast_reads only for the users who read or delete it. Both kinds draw their ids from one sequence,
-- so an inbox item id names exactly one row and (created_at, id) orders the merged list totally.
CREATE SEQUENCE inbox_item_id_seq;

-- created_at is the job's created_at (copied at fan-out), so the inbox is ordered by when a notification was sent.
CREATE TABLE inbox_entries (
  id bigint PRIMARY KEY DEFAULT nextval('inbox_item_id_seq'),
  user_id uuid NOT NULL REFERENCES users (id),
  job_id uuid NOT NULL REFERENCES notification_jobs (id),
  created_at timestamptz NOT NULL,
  read_at timestamptz NULL,
  deleted_at timestamptz NULL,
  -- A fan-out resumed after a crash writes the same entries again: ON CONFLICT DO NOTHING.
  UNIQUE (user_id, job_id)
);
-- The page query: one user's live entries, newest first, by (created_at, id) as the cursor.
CREATE INDEX inbox_entries_user_live ON inbox_entries (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX inbox_entries_user_unread ON inbox_entries (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND read_at IS NULL;
CREATE INDEX inbox_entries_job ON inbox_entries (job_id);

-- One row per broadcast job. Who sees it, decided at read time: users whose account existed when it was sent
-- (users.created_at <= broadcasts.created_at) and, by scope, 'agency' → users.agency_code = agency_code;
-- 'all_agencies' → users attached to an agency (agency_code not null); 'everyone' → every user.
CREATE TABLE broadcasts (
  id bigint PRIMARY KEY DEFAULT nextval('inbox_item_id_seq'),
  job_id uuid NOT NULL UNIQUE REFERENCES notification_jobs (id),
  scope text NOT NULL CHECK (scope IN ('agency', 'all_agencies', 'everyone')),
  agency_code text NULL REFERENCES agencies (code),
  created_at timestamptz NOT NULL,
  CHECK ((scope = 'agency') = (agency_code IS NOT NULL))
);
CREATE INDEX broadcasts_time ON broadcasts (created_at DESC, id DESC);

-- Per-user state of a broadcast, only for users who read or deleted it.
CREATE TABLE broadcast_reads (
  user_id uuid NOT NULL REFERENCES users (id),
  job_id uuid NOT NULL REFERENCES broadcasts (job_id),
  read_at timestamptz NULL,
  deleted_at timestamptz NULL,
  PRIMARY KEY (user_id, job_id)
);

-- Down Migration

DROP TABLE broadcast_reads;
DROP TABLE broadcasts;
DROP TABLE inbox_entries;
DROP SEQUENCE inbox_item_id_seq;
