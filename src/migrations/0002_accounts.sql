-- Up Migration

-- Agencies of the utility; agents belong to one, customers' meters are attached to one.
CREATE TABLE agencies (
  code text PRIMARY KEY,
  name text NOT NULL
);

-- Every person who signs in: customers (phone + PIN), agents and admins (LDAP login).
-- Deleting an account clears its personal data (phone, names, email, PIN) and keeps the row for the audit trail.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  phone text UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  ldap_login text UNIQUE,
  first_name text,
  last_name text,
  email text,
  pin_hash text,
  role text NOT NULL CHECK (role IN ('customer', 'agent', 'admin')),
  agency_code text REFERENCES agencies (code),
  phone_proved_at timestamptz,
  created_at timestamptz NOT NULL,
  deleted_at timestamptz,
  CHECK (deleted_at IS NOT NULL OR phone IS NOT NULL OR ldap_login IS NOT NULL)
);

-- One row per signed-in device. The refresh token is stored as a SHA-256 hash and found by that hash.
-- The previous hash stays valid until previous_valid_until so a reply lost on a mobile network can be replayed.
CREATE TABLE device_sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  family uuid NOT NULL,
  device_model text NOT NULL,
  platform text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
  push_token text UNIQUE,
  refresh_hash bytea NOT NULL UNIQUE,
  previous_hash bytea UNIQUE,
  previous_valid_until timestamptz,
  rotated_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'ended', 'revoked')),
  ended_reason text
);
CREATE INDEX device_sessions_user_active ON device_sessions (user_id, last_seen_at) WHERE state = 'active';

-- Every refresh token a session has rotated away from: presenting one after the grace window is reuse,
-- however far back in the chain it is, and revokes the session.
CREATE TABLE used_refresh_tokens (
  token_hash bytea PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES device_sessions (id),
  used_at timestamptz NOT NULL
);
CREATE INDEX device_sessions_family ON device_sessions (family);

-- One-time codes sent by SMS, stored hashed; a code is burnt after 5 wrong tries.
CREATE TABLE one_time_codes (
  id uuid PRIMARY KEY,
  phone text NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('verify_phone', 'pin_reset')),
  code_hash bytea NOT NULL,
  -- What the code confirms when it is a registration: applied to the account only once the phone is proved,
  -- so nobody can change an unproved account's PIN by registering the same number again.
  pending_pin_hash text,
  pending_first_name text,
  pending_last_name text,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz
);
CREATE INDEX one_time_codes_phone ON one_time_codes (phone, purpose, created_at);

-- Failed PIN attempts per account, kept in PostgreSQL so a Redis outage cannot open brute force.
CREATE TABLE login_failures (
  user_id uuid PRIMARY KEY REFERENCES users (id),
  failures integer NOT NULL,
  locked_until timestamptz,
  last_failure_at timestamptz NOT NULL
);

-- SMS sent per phone and day, for the daily budgets (per phone and overall).
CREATE TABLE sms_budget (
  day date NOT NULL,
  phone text NOT NULL,
  sent integer NOT NULL,
  PRIMARY KEY (day, phone)
);

-- Security events, kept when an account is deleted.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  user_id uuid REFERENCES users (id),
  event text NOT NULL,
  ip text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

-- Down Migration

DROP TABLE audit_log;
DROP TABLE sms_budget;
DROP TABLE login_failures;
DROP TABLE one_time_codes;
DROP TABLE used_refresh_tokens;
DROP TABLE device_sessions;
DROP TABLE users;
DROP TABLE agencies;
