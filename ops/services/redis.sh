# Redis: a private instance on loopback, and the reaping of the ones tests start for themselves. Sourced by ops/services.sh.

redis_pid() { live_pid "$SVC/redis/redis.pid" redis-server; }

start_redis() {
  local dir="$SVC/redis"
  if redis_pid >/dev/null; then say "redis already running"; return; fi
  require_free_port "$REDIS_PORT" redis SERVICES_REDIS_PORT
  mkdir -p "$dir"
  rm -f "$dir/redis.pid"
  # Errors before daemonizing (bad arguments) go to stderr, not to the log file.
  "$REDIS_SERVER_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >"$dir/launch.log" 2>&1 \
    || fail_with_log redis "$dir/launch.log"
  wait_for 10 redis_ping "$REDIS_PORT" || fail_with_log redis "$dir/redis.log"
  say "redis started on 127.0.0.1:$REDIS_PORT"
}

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

stop_redis() {
  local pid
  if pid="$(redis_pid)"; then
    terminate "$pid" redis
    say "redis stopped"
  fi
}

# Redis instances that tests start for themselves (test/support/services.ts) are reaped too if a test run died.
stop_private_redis() {
  local pidfile pid
  for pidfile in "$SVC"/private/redis-*/redis.pid; do
    [[ -e "$pidfile" ]] || continue
    if pid="$(live_pid "$pidfile" redis-server)"; then
      terminate "$pid" "private redis"
      say "private redis $pid stopped (left over by a test)"
    fi
  done
  rm -rf "$SVC/private"
}
