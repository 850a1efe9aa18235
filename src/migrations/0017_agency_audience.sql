-- Up Migration

-- An agency's audience (the `agency` notification target, issue 11) is its accounts (users.agency_code) and the
-- customers with an active meter link of the agency (meter_links_agency_active, 0015). The fan-out pages through both
-- in id order (src/dispatch/fan-out-audience.ts); this is the accounts' side of that merge, which had no index.
CREATE INDEX users_agency ON users (agency_code, id) WHERE deleted_at IS NULL;

-- Down Migration

DROP INDEX users_agency;
