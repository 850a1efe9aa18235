# s3rver: the S3 server of the tests, on loopback. Sourced by ops/services.sh.

s3_pid() { live_pid "$SVC/s3/s3rver.pid" s3rver.mjs; }

s3_launch() {
  local dir="$SVC/s3"
  if s3_pid >/dev/null; then say "s3rver already running"; S3_LAUNCHED=0; return; fi
  require_free_port "$S3_PORT" s3rver SERVICES_S3_PORT
  mkdir -p "$dir/data"
  S3_PORT="$S3_PORT" S3_DIR="$dir/data" S3_ACCESS_KEY="$S3_ACCESS_KEY" S3_SECRET_KEY="$S3_SECRET_KEY" \
    S3_BUCKET="$S3_BUCKET" setsid node "$REPO/ops/s3rver.mjs" >"$dir/s3rver.log" 2>&1 </dev/null &
  echo $! >"$dir/s3rver.pid"
  S3_LAUNCHED=1
}

s3_wait() {
  local dir="$SVC/s3"
  ((S3_LAUNCHED)) || return 0
  # s3rver.mjs prints "ready" once the bucket exists and the port listens.
  wait_for 20 s3_ready || fail_with_log s3rver "$dir/s3rver.log"
  say "s3rver started on 127.0.0.1:$S3_PORT (bucket $S3_BUCKET)"
}

s3_ready() { s3_pid >/dev/null && grep -q '^ready' "$SVC/s3/s3rver.log"; }

stop_s3() {
  local pid
  if pid="$(s3_pid)"; then
    terminate "$pid" s3rver
    say "s3rver stopped"
  fi
}
