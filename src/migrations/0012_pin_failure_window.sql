-- Up Migration

-- Wrong PINs count towards the lockout only while they are recent (PIN_FAILURE_WINDOW_MS): the times of those
-- still inside the window, so that a lock decays and nobody can keep another's account locked for ever with one
-- wrong PIN an hour. `failures` stays as the number of recent failures at the last one.
ALTER TABLE login_failures ADD COLUMN recent_failures timestamptz[] NOT NULL DEFAULT '{}';

-- Down Migration

ALTER TABLE login_failures DROP COLUMN recent_failures;
