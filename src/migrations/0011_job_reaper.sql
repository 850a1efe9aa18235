-- Up Migration

-- The job reaper (worker, src/dispatch/job-reaper.ts) settles jobs that stopped progressing: a job whose job message
-- died (RabbitMQ dead-lettered it while PostgreSQL was away) has its fan-out resumed from its checkpoint, at most a
-- few times (resumed_count); a job whose batches died has their tokens counted as failed. failure_reason says what
-- the reaper did (or why a job failed), for the job's creator and on-call.
ALTER TABLE notification_jobs ADD COLUMN failure_reason text NULL;
ALTER TABLE notification_jobs ADD COLUMN resumed_count integer NOT NULL DEFAULT 0;
-- The reaper's scan: unsettled jobs by last progress (few rows: jobs settle within minutes).
CREATE INDEX notification_jobs_unsettled ON notification_jobs (updated_at) WHERE state IN ('accepted', 'fanning_out', 'sending');
-- The purge (src/dispatch/purge.ts): finished jobs by age, and their batches' claims by job.
CREATE INDEX notification_jobs_finished ON notification_jobs (updated_at) WHERE state IN ('done', 'failed');
CREATE INDEX batch_claims_job ON batch_claims (job_id);

-- Down Migration

DROP INDEX batch_claims_job;
DROP INDEX notification_jobs_finished;
DROP INDEX notification_jobs_unsettled;
ALTER TABLE notification_jobs DROP COLUMN resumed_count;
ALTER TABLE notification_jobs DROP COLUMN failure_reason;
