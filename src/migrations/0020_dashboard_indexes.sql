-- Up Migration

-- The dashboard across all agencies (GET /v1/dashboard as an admin, issue 12): the jobs of the last 30 days by day.
-- The per-agency answer uses notification_jobs_agency (0003); the other counts use the meter links' and requests'
-- indexes of 0015 and 0019 (src/dashboard/dashboard-queries.ts names each).
CREATE INDEX notification_jobs_created ON notification_jobs (created_at);

-- Down Migration

DROP INDEX notification_jobs_created;
