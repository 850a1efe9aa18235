# RabbitMQ: a private node on loopback (its own Erlang cookie and distribution port). Sourced by ops/services.sh.

# Runs a RabbitMQ script with the private node's environment; HOME holds the node's own Erlang cookie.
rabbit() {
  local dir="$SVC/rabbitmq" cmd="$1"
  shift
  env HOME="$dir" \
    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_NODENAME="$RABBIT_NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$AMQP_DIST_PORT" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" \
    RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    "$RABBIT_BIN/$cmd" "$@"
}

# The node writes its pidfile only some way into boot; until then its VM is found by its private -home argument
# (a /proc scan, since procps may be missing on a minimal machine).
rabbit_pid() {
  live_pid "$SVC/rabbitmq/rabbitmq.pid" beam && return 0
  local cmdline
  for cmdline in /proc/[0-9]*/cmdline; do
    if [[ "$(tr '\0' ' ' 2>/dev/null <"$cmdline")" == *beam.smp*" -home $SVC/rabbitmq -- "* ]]; then
      cmdline="${cmdline#/proc/}"
      echo "${cmdline%/cmdline}"
      return 0
    fi
  done
  return 1
}

# Boots the node in the background; rabbitmq_wait later waits for it so other services start meanwhile.
rabbitmq_launch() {
  local dir="$SVC/rabbitmq"
  if rabbit_pid >/dev/null; then say "rabbitmq already running"; RABBIT_LAUNCHED=0; return; fi
  require_free_port "$AMQP_PORT" rabbitmq SERVICES_AMQP_PORT
  require_free_port "$AMQP_DIST_PORT" "rabbitmq distribution" SERVICES_AMQP_DIST_PORT
  require_free_port "$AMQP_MGMT_PORT" "rabbitmq management" SERVICES_AMQP_MGMT_PORT
  mkdir -p "$dir/log" "$dir/mnesia"
  # The management plugin gives per-queue unacked counts and rates (AMQP's checkQueue has only ready and consumers).
  echo '[rabbitmq_management].' >"$dir/enabled_plugins"
  printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$AMQP_MGMT_PORT" >"$dir/rabbitmq.conf"
  rm -f "$dir/rabbitmq.pid"
  if ! epmd -names >/dev/null 2>&1; then
    # Started here so stop knows it may kill epmd; one already running belongs to someone else.
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon
    touch "$dir/epmd.started-by-services"
  fi
  rabbit rabbitmq-server -detached >"$dir/log/launch.log" 2>&1 || fail_with_log rabbitmq "$dir/log/launch.log"
  RABBIT_LAUNCHED=1
}

rabbitmq_wait() {
  local dir="$SVC/rabbitmq" log
  ((RABBIT_LAUNCHED)) || return 0
  log="$dir/log/$RABBIT_NODE.log"
  # await_startup exits 69 until the node has registered with epmd, so it is retried.
  wait_for 60 rabbit rabbitmqctl -n "$RABBIT_NODE" -q await_startup --timeout 60 || fail_with_log rabbitmq "$log"
  say "rabbitmq started on 127.0.0.1:$AMQP_PORT (node $RABBIT_NODE)"
}

stop_rabbitmq() {
  local dir="$SVC/rabbitmq" pid
  if pid="$(rabbit_pid)"; then
    # stop with the pidfile waits until the Erlang VM has exited.
    rabbit rabbitmqctl -n "$RABBIT_NODE" -q stop "$dir/rabbitmq.pid" >/dev/null 2>&1 || terminate "$pid" rabbitmq
    say "rabbitmq stopped"
  fi
  if [[ -e "$dir/epmd.started-by-services" ]]; then
    epmd -kill >/dev/null 2>&1 || true
    rm -f "$dir/epmd.started-by-services"
    say "epmd stopped"
  fi
}
