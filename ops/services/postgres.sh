# PostgreSQL 15: a private cluster on loopback. Sourced by ops/services.sh.

# The postgres user must reach the cluster folder; a repo under /root is not reachable, so fall back to /var/tmp.
pg_dir() {
  if ((EUID != 0)) || runuser -u postgres -- test -x "$SVC"; then
    echo "$SVC/pg"
  else
    echo "/var/tmp/samaconso-services-$(printf %s "$SVC" | cksum | cut -d' ' -f1)/pg"
  fi
}

postgres_running() { as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir)/data" status >/dev/null 2>&1; }

start_postgres() {
  local dir data
  dir="$(pg_dir)"
  data="$dir/data"
  if postgres_running; then say "postgres already running"; return; fi
  require_free_port "$PG_PORT" postgres SERVICES_PG_PORT
  mkdir -p "$dir"
  ((EUID == 0)) && chown postgres:postgres "$dir"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || fail_with_log postgres "$dir/initdb.log"
  fi
  # fsync, full-page writes and synchronous commit buy nothing for throwaway test data.
  as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 -o "-p $PG_PORT -k $data \
-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
    start >/dev/null 2>&1 || fail_with_log postgres "$dir/postgres.log"
  say "postgres started on 127.0.0.1:$PG_PORT ($data)"
}

stop_postgres() {
  if postgres_running; then
    as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir)/data" -m fast -w -t 30 stop >/dev/null
    say "postgres stopped"
  fi
}
