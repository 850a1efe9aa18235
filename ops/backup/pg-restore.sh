#!/usr/bin/env bash
# Restores a dump of ops/backup/pg-backup.sh into a named database, creating it when missing. It refuses a database
# that already holds tables (a restore over the live database by mistake) unless --force is given; then the
# dump's objects replace the ones of the same name (pg_restore --clean).
#
#   ops/backup/pg-restore.sh /var/backups/samaconso/samaconso-20261204T020000.000Z.dump samaconso_restored
#   ops/backup/pg-restore.sh --force <dump> samaconso        # really overwrite
#
# Connection as for pg-backup.sh (PGHOST, PGPORT, PGUSER, PGPASSFILE; direct to PostgreSQL, never through PgBouncer);
# the user must be allowed to create databases (or the target must exist and be theirs). pg_restore, psql and
# createdb from PG_BIN or the PATH. Everything is restored in one transaction: a restore that fails half-way leaves
# the target as it was. Owners and grants of the source are not restored (--no-owner --no-acl): the restoring user
# owns what it restores, so a dump restores on a host whose roles differ.
# Exit status: 0 restored, 1 the restore failed, 2 usage, 3 the target holds tables and --force was not given.
set -euo pipefail

usage() {
  echo "usage: $0 [--force] <dump file> <target database>" >&2
  exit 2
}

force=0
if [[ "${1:-}" == --force ]]; then force=1; shift; fi
(($# == 2)) || usage
dump="$1"
target="$2"
[[ -f "$dump" && -r "$dump" ]] || { echo "pg-restore: no readable dump at $dump" >&2; exit 2; }
[[ "$target" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || { echo "pg-restore: '$target' is not a plain database name" >&2; usage; }
bin="${PG_BIN:+$PG_BIN/}"

# The dump must be one pg_restore reads (custom format), checked before anything is created or dropped.
"${bin}pg_restore" --list "$dump" >/dev/null || { echo "pg-restore: $dump is not a pg_dump custom-format archive" >&2; exit 2; }

psql_in() { "${bin}psql" --no-password --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 --dbname="$1" "${@:2}"; }

exists="$(psql_in postgres --variable=target="$target" <<<"SELECT count(*) FROM pg_database WHERE datname = :'target'")"
if [[ "$exists" == 0 ]]; then
  "${bin}createdb" --no-password -- "$target"
  echo "pg-restore: created database $target"
else
  # Tables, views, sequences … outside PostgreSQL's own schemas: any of them means the database is in use.
  objects="$(psql_in "$target" <<<"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")"
  if ((objects > 0)) && ((force == 0)); then
    echo "pg-restore: database $target is not empty ($objects relations); refusing to overwrite it (pass --force to replace its objects)" >&2
    exit 3
  fi
fi

clean=()
((force)) && clean=(--clean --if-exists)
"${bin}pg_restore" --no-password --no-owner --no-acl --exit-on-error --single-transaction "${clean[@]}" --dbname="$target" "$dump"
echo "pg-restore: restored $dump into $target"
