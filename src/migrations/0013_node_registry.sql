-- Up Migration

-- The node registry (issue 9): every process (api, worker, all) registers its incarnation at start and renews a
-- heartbeat every NODE_HEARTBEAT_MS; it is alive while `alive_until` (written with the database's clock, so no
-- host's clock matters) is in the future and it has not stopped. The one source of liveness: a batch claim whose
-- holder is not alive is taken over at once, and the operations issue shows these rows as the cluster's nodes.
-- Keyed by incarnation, which changes at every process start: a node restarted under the same id (a pod keeping
-- its name) does not pass for the process that held the old claims, and two live processes given one NODE_ID by
-- mistake do not make each other look gone (the registry warns about them).
CREATE TABLE nodes (
  incarnation uuid PRIMARY KEY,
  node_id text NOT NULL,
  role text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  alive_until timestamptz NOT NULL,
  stopped_at timestamptz
);
CREATE INDEX nodes_node_id ON nodes (node_id);

-- Which process holds a claim (its incarnation); NULL for claims made before the registry (lease only).
ALTER TABLE batch_claims ADD COLUMN holder uuid;

-- Progress inside a batch: each step is a chunk of answers FCM gave (position in the batch and outcome), written
-- by the claim's holder while the batch is being sent, so a copy that takes the batch over sends only the tokens
-- without an answer. Deleted when the batch is recorded in sent_batches (same statement).
-- Steps are numbered by the database (`id`): two holders of one batch (one taken for gone while still writing)
-- never collide on a number.
CREATE TABLE batch_progress (
  id bigserial PRIMARY KEY,
  batch_id text NOT NULL,
  job_id uuid NOT NULL REFERENCES notification_jobs (id),
  answers jsonb NOT NULL
);
CREATE INDEX batch_progress_batch ON batch_progress (batch_id);
CREATE INDEX batch_progress_job ON batch_progress (job_id);

-- Down Migration

DROP TABLE batch_progress;
ALTER TABLE batch_claims DROP COLUMN holder;
DROP TABLE nodes;
