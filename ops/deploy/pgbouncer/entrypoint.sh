#!/bin/sh
# Writes PgBouncer's auth file (auth_file in pgbouncer.ini) from PGBOUNCER_USER and PGBOUNCER_PASSWORD into the
# in-memory /run/pgbouncer, then runs PgBouncer in the foreground (PGBOUNCER_AUTH_FILE and PGBOUNCER_INI move them,
# for the test). The password stays out of the image and out of
# the repository; PgBouncer needs it in clear (or as the SCRAM secret) to log in to PostgreSQL with SCRAM itself.
set -eu
: "${PGBOUNCER_USER:?set PGBOUNCER_USER}" "${PGBOUNCER_PASSWORD:?set PGBOUNCER_PASSWORD}"
auth_file="${PGBOUNCER_AUTH_FILE:-/run/pgbouncer/userlist.txt}"
umask 077
# userlist.txt format: "user" "password", double quotes inside doubled.
printf '"%s" "%s"\n' "$(printf %s "$PGBOUNCER_USER" | sed 's/"/""/g')" "$(printf %s "$PGBOUNCER_PASSWORD" | sed 's/"/""/g')" \
  >"$auth_file"
# PgBouncer does not need it in its environment (where /proc/<pid>/environ would show it).
unset PGBOUNCER_PASSWORD
exec pgbouncer "${PGBOUNCER_INI:-/etc/pgbouncer/pgbouncer.ini}"
