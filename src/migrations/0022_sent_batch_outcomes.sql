-- Up Migration

-- Each recorded batch keeps its per-token outcomes by class (sent, retried, token removed, failed), written by the
-- same statement that records the batch (src/dispatch/batch-ledger.ts recordBatch). The on-call dashboard reads FCM
-- outcomes per minute from here (src/operations/fcm-outcomes.ts), so every worker's sends count, whichever API
-- instance is asked. Rows recorded before this migration count as zeros.
ALTER TABLE sent_batches ADD COLUMN sent_count integer NOT NULL DEFAULT 0;
ALTER TABLE sent_batches ADD COLUMN retried_count integer NOT NULL DEFAULT 0;
ALTER TABLE sent_batches ADD COLUMN removed_count integer NOT NULL DEFAULT 0;
ALTER TABLE sent_batches ADD COLUMN failed_count integer NOT NULL DEFAULT 0;
-- The per-minute read covers the last 30 minutes: a range on done_at.
CREATE INDEX sent_batches_done_at ON sent_batches (done_at);

-- Down Migration

DROP INDEX sent_batches_done_at;
ALTER TABLE sent_batches DROP COLUMN failed_count;
ALTER TABLE sent_batches DROP COLUMN removed_count;
ALTER TABLE sent_batches DROP COLUMN retried_count;
ALTER TABLE sent_batches DROP COLUMN sent_count;
