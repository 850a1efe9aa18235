#!/usr/bin/env bash
# Backs up one PostgreSQL database: pg_dump's custom format (compressed; pg_restore can restore it whole, by table,
# or in parallel), into BACKUP_DIR as <database>-<UTC timestamp>.dump, then keeps only the newest BACKUP_KEEP dumps
# of that database. Run on the database host (direct to PostgreSQL, never through PgBouncer), e.g. nightly from a
# systemd timer or cron as a user that may read the database.
#
#   BACKUP_DIR=/var/backups/samaconso BACKUP_KEEP=14 ops/backup/pg-backup.sh samaconso
#
# Connection and credentials come from libpq's environment, never from the command line: PGHOST, PGPORT, PGUSER
# and PGPASSFILE (a ~/.pgpass-format file, mode 0600) or a peer/Unix-socket login; PGPASSWORD works but shows in
# /proc. pg_dump is taken from PG_BIN (e.g. /usr/lib/postgresql/15/bin) or the PATH; it must be the server's major
# version or newer. Exit status: 0 done, 1 the dump failed (nothing deleted), 2 usage.
# Restore: ops/backup/pg-restore.sh. Runbook: ops/RUNBOOK.md, "Backup and restore".
set -euo pipefail

usage() {
  echo "usage: BACKUP_DIR=<folder> [BACKUP_KEEP=<n>] $0 <database>" >&2
  exit 2
}

(($# == 1)) || usage
database="$1"
dir="${BACKUP_DIR:-}"
keep="${BACKUP_KEEP:-14}"
[[ -n "$dir" ]] || { echo "pg-backup: set BACKUP_DIR to the folder the dumps go to" >&2; usage; }
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "pg-backup: BACKUP_KEEP must be a positive whole number (got '$keep')" >&2; usage; }
# The database name becomes part of a file name, and the retention's glob: plain names only.
[[ "$database" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || { echo "pg-backup: '$database' is not a plain database name" >&2; usage; }
pg_dump="${PG_BIN:+$PG_BIN/}pg_dump"

# Dumps hold every customer's data: readable by their owner only.
umask 077
mkdir -p "$dir"

# Milliseconds in the name: two backups in the same second (a manual one beside the timer's) never collide, and
# names sort in time order, which the retention below relies on.
stamp="$(date -u +%Y%m%dT%H%M%S.%3NZ)"
final="$dir/$database-$stamp.dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT

# --no-password: fail at once rather than wait for a password prompt nobody answers. Written under another name
# and renamed when complete, so a failed or interrupted dump is never mistaken for a backup (nor counted below).
"$pg_dump" --format=custom --compress=6 --no-password --file="$partial" --dbname="$database"
mv "$partial" "$final"
trap - EXIT
echo "pg-backup: wrote $final ($(stat -c %s "$final") bytes)"

# Retention by count: the newest $keep complete dumps of this database stay; older ones go.
mapfile -t dumps < <(find "$dir" -maxdepth 1 -type f -name "$database-*.dump" -printf '%f\n' | sort)
excess=$((${#dumps[@]} - keep))
for ((i = 0; i < excess; i++)); do
  rm -f -- "$dir/${dumps[i]}"
  echo "pg-backup: removed ${dumps[i]} (keeping the newest $keep)"
done
