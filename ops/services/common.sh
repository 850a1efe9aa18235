# Shared by ops/services.sh and ops/services/*.sh (sourced): messages, waiting, pids and ports.
say() { echo "services: $*"; }
die() { echo "services: $*" >&2; exit 1; }

# Prints the last lines of a service's log, then fails: a service that does not start says why.
fail_with_log() {
  local name="$1" log="$2"
  echo "services: $name did not start; last lines of $log:" >&2
  tail -n 40 "$log" >&2 2>/dev/null || echo "  (no log)" >&2
  exit 1
}

# wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Prints the pid in PIDFILE when that process is alive and its command line contains PATTERN (guards pid reuse).
live_pid() {
  local pidfile="$1" pattern="$2" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(head -n1 "$pidfile" | tr -dc 0-9)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_free_port() {
  ! port_open "$1" || die "port $1 for $2 is taken by another process; set $3 to another port"
}

# TERM the process and wait (bounded) for it to go; KILL as a last resort.
terminate() {
  local pid="$1" name="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    # A reaped-late zombie counts as gone.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
  say "$name did not stop within 10 s; killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
}

as_postgres() {
  # From /: the postgres user may not be allowed into the checkout (under /root, or a private tmp dir).
  if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
