-- Up Migration

-- One row per accepted notification job (POST /v1/notifications). The job and its outbox row are written in one
-- transaction, so an accepted job is never lost even when RabbitMQ is down at that moment.
CREATE TABLE notification_jobs (
  id uuid PRIMARY KEY,
  created_by uuid NOT NULL REFERENCES users (id),
  caller_role text NOT NULL CHECK (caller_role IN ('agent', 'admin')),
  -- The agent's agency (null for an admin): an agent sees the jobs of their agency, an admin all of them.
  caller_agency text NULL REFERENCES agencies (code),
  -- {kind: user, userId} | {kind: users, userIds} | {kind: agency, agency} | {kind: all_agencies} | {kind: everyone}
  target jsonb NOT NULL CHECK (target ->> 'kind' IN ('user', 'users', 'agency', 'all_agencies', 'everyone')),
  type text NOT NULL REFERENCES notification_types (code),
  -- The priority queue resolved at acceptance (the type's, or the lower/higher one the caller was allowed).
  queue text NOT NULL CHECK (queue IN ('urgent', 'high_priority', 'normal', 'low_priority')),
  title text NOT NULL,
  body text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key text NULL,
  -- SHA-256 of the normalised request: the same key with another body is a 409.
  request_hash bytea NOT NULL,
  state text NOT NULL DEFAULT 'accepted' CHECK (state IN ('accepted', 'fanning_out', 'sending', 'done', 'failed')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Progress, written by the worker (zeros until it runs).
  target_count integer NOT NULL DEFAULT 0,
  inbox_count integer NOT NULL DEFAULT 0,
  sent_count integer NOT NULL DEFAULT 0,
  retried_count integer NOT NULL DEFAULT 0,
  failed_count integer NOT NULL DEFAULT 0,
  tokens_removed_count integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX notification_jobs_idempotency ON notification_jobs (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX notification_jobs_agency ON notification_jobs (caller_agency, created_at);

-- Messages waiting to be published on the broker. The relay takes a batch with FOR UPDATE SKIP LOCKED (several
-- API instances may relay at once), publishes on a confirm channel with message id = outbox id, and sets
-- published_at only after the broker confirmed.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES notification_jobs (id),
  queue text NOT NULL CHECK (queue IN ('urgent', 'high_priority', 'normal', 'low_priority')),
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  published_at timestamptz NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text NULL
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_job ON outbox (job_id);

-- Down Migration

DROP TABLE outbox;
DROP TABLE notification_jobs;
