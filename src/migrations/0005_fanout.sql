-- Up Migration

-- Where a job's fan-out stands, so a worker that crashed (or was killed) mid fan-out resumes without losing or
-- repeating batches. The worker pages through the targeted users by key (users.id > last_user_id, no cursor held
-- open). For each page, in ONE transaction: the page's inbox entries are written, last_user_id moves to the page's
-- last user, and the tokens not yet published (the previous page's remainder followed by this page's tokens) are
-- stored in pending_tokens with pending_offset = 0. Then each full batch of pending_tokens[pending_offset ..] is
-- published with message id '<job>:<next_batch_no>' and, only once the broker confirmed it, next_batch_no and
-- pending_offset advance. A crash between the confirm and that update re-publishes the same batch (same id, same
-- tokens) on resume: the only possible duplicate, which consumers drop by message id.
-- Memory and this row stay bounded by one page of users plus one partial batch.
CREATE TABLE fanout_checkpoints (
  job_id uuid PRIMARY KEY REFERENCES notification_jobs (id),
  -- The last user whose inbox entry is written and whose tokens are published or in pending_tokens (null: none yet).
  last_user_id uuid NULL,
  -- The number the next published batch gets (batches are numbered from 0).
  next_batch_no integer NOT NULL DEFAULT 0,
  -- [{sessionId, token}] not published yet; those before pending_offset were published already.
  pending_tokens jsonb NOT NULL DEFAULT '[]'::jsonb,
  pending_offset integer NOT NULL DEFAULT 0,
  -- Tokens published (batches confirmed), for the job's counts.
  token_count integer NOT NULL DEFAULT 0,
  -- Set once the last batch is confirmed: fanning out this job again publishes nothing.
  done_at timestamptz NULL,
  updated_at timestamptz NOT NULL
);

-- Down Migration

DROP TABLE fanout_checkpoints;
