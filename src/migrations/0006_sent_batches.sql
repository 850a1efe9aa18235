-- Up Migration

-- Push batches a worker has finished (sent, counted, dead tokens removed, retries published), so a batch delivered
-- again (redelivery after a lost ack, the in-flight batch re-published by a resumed fan-out, a duplicate retry
-- message) sends nothing more. batch_id is the batch's deterministic id: '<job>:<batchNo>' for a fan-out batch,
-- '<parent batch>:r<attempt>' for a retry batch. Recorded in the same transaction as the job's counts.
CREATE TABLE sent_batches (
  batch_id text PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES notification_jobs (id),
  done_at timestamptz NOT NULL
);
CREATE INDEX sent_batches_job ON sent_batches (job_id);

-- Down Migration

DROP TABLE sent_batches;
