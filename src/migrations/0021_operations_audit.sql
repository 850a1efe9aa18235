-- Up Migration

-- What on-call did through the admin API (issue 13): who (the admin's user id and role), when (the database's
-- clock), what (`action`: supervisor.restart, queue.pause, dead-letters.replay …) on which `target` (a supervisor,
-- a queue), on which node when one was addressed, why (the reason they gave) and how it ended (`outcome`), with
-- the details of each node's answer. Append-only: rows are never updated.
CREATE TABLE operations_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_user_id text NOT NULL,
  actor_role text NOT NULL,
  actor_login text,
  action text NOT NULL,
  target text NOT NULL,
  node text,
  reason text NOT NULL,
  outcome text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX operations_audit_at ON operations_audit (at DESC);
CREATE INDEX operations_audit_target ON operations_audit (action, target, at DESC);

-- Down Migration
DROP TABLE operations_audit;
