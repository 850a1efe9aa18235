-- Up Migration

-- Sessions that end (issue 8): an absolute lifetime from the login that refreshing never extends, the last time an
-- agent's session was checked against the directory, and when a session ended (so every API instance can load the
-- sessions ended within one access-token lifetime and refuse their tokens).
ALTER TABLE device_sessions
  ADD COLUMN absolute_expires_at timestamptz,
  ADD COLUMN directory_checked_at timestamptz,
  ADD COLUMN ended_at timestamptz;

-- Sessions opened before this migration: the defaults of the configuration (180 days for customers, 12 hours for
-- agents and admins, counted from the login); agents were checked against the directory at their login.
UPDATE device_sessions s
   SET absolute_expires_at = s.created_at + CASE WHEN u.role = 'customer' THEN interval '180 days' ELSE interval '12 hours' END,
       directory_checked_at = CASE WHEN u.role = 'customer' THEN NULL ELSE s.created_at END,
       ended_at = CASE WHEN s.state = 'active' THEN NULL ELSE s.last_seen_at END
  FROM users u
 WHERE u.id = s.user_id;

-- The application always sets it; a row written without it (a script, a fixture) gets the shortest cap, an agent's.
ALTER TABLE device_sessions ALTER COLUMN absolute_expires_at SET NOT NULL,
  ALTER COLUMN absolute_expires_at SET DEFAULT now() + interval '12 hours';

CREATE INDEX device_sessions_ended_at ON device_sessions (ended_at) WHERE ended_at IS NOT NULL;

-- Down Migration

DROP INDEX device_sessions_ended_at;
ALTER TABLE device_sessions DROP COLUMN ended_at, DROP COLUMN directory_checked_at, DROP COLUMN absolute_expires_at;
