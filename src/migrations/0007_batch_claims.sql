-- Up Migration

-- A push batch is claimed before it is sent (DESIGN.md §4), so a copy delivered again while the first is still
-- being sent — RabbitMQ hands unacked messages to another consumer when a channel or connection drops, while the
-- first holder keeps sending — does not send twice. The claim is a lease: a holder that died lets its claim expire
-- and a later copy takes over. Deleted when the batch is recorded in sent_batches (same transaction) or released
-- when its send failed.
CREATE TABLE batch_claims (
  batch_id text PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES notification_jobs (id),
  claimed_by text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Down Migration

DROP TABLE batch_claims;
