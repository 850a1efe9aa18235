#!/usr/bin/env bash
# Installs (when missing), starts, stops and reports the real services the tests use: PostgreSQL 15,
# Redis, RabbitMQ, s3rver and OpenLDAP (ldap and ldaps, with a test CA), each on 127.0.0.1 with a private port
# and folder under .services/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC="${SERVICES_DIR:-$REPO/.services}"
ENV_FILE="$SVC/env"

PG_PORT="${SERVICES_PG_PORT:-54329}"
REDIS_PORT="${SERVICES_REDIS_PORT:-63799}"
AMQP_PORT="${SERVICES_AMQP_PORT:-56729}"
AMQP_DIST_PORT="${SERVICES_AMQP_DIST_PORT:-25679}"
AMQP_MGMT_PORT="${SERVICES_AMQP_MGMT_PORT:-15729}"
S3_PORT="${SERVICES_S3_PORT:-45690}"
LDAP_PORT="${SERVICES_LDAP_PORT:-38999}"
LDAPS_PORT="${SERVICES_LDAPS_PORT:-38998}"

PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin
RABBIT_NODE="${SERVICES_RABBITMQ_NODE:-samaconso-test@localhost}"
REDIS_SERVER_BIN=/usr/bin/redis-server

# Fixed test-only credentials: these services listen on loopback only and hold synthetic data.
S3_ACCESS_KEY=samaconso-test-key
S3_SECRET_KEY=samaconso-test-secret
S3_BUCKET=samaconso-test
LDAP_BASE_DN=dc=samaconso,dc=test
LDAP_ADMIN_DN="cn=admin,$LDAP_BASE_DN"
LDAP_ADMIN_PASSWORD=admin-test-pass
LDAP_BIND_DN="cn=svc-samaconso,ou=services,$LDAP_BASE_DN"
LDAP_BIND_PASSWORD=svc-test-pass
# Agents as "uid|given name|surname|agency|password"; the first one is exported to the tests.
LDAP_AGENTS=("adiop|Awa|Diop|DAKAR1|Awa-test-pass1" "mfall|Moussa|Fall|THIES1|Moussa-test-pass2")

for port in "$PG_PORT" "$REDIS_PORT" "$AMQP_PORT" "$AMQP_DIST_PORT" "$AMQP_MGMT_PORT" "$S3_PORT" "$LDAP_PORT" "$LDAPS_PORT"; do
  if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    echo "services: invalid port '$port'" >&2
    exit 2
  fi
done


# One file per service under ops/services/, sourced here; this file holds the settings and the commands.
for part in common install postgres redis rabbitmq s3rver openldap env-file; do
  # shellcheck source=/dev/null
  source "$REPO/ops/services/$part.sh"
done


cmd_start() {
  install_missing_packages
  mkdir -p "$SVC"
  rabbitmq_launch
  s3_launch
  start_postgres
  start_redis
  start_ldap
  s3_wait
  rabbitmq_wait
  write_env
  say "ready; settings in $ENV_FILE"
}

cmd_stop() {
  [[ -d "$SVC" ]] || { say "nothing to stop"; return; }
  rm -f "$ENV_FILE"
  stop_s3
  stop_ldap
  stop_redis
  stop_private_redis
  stop_postgres
  stop_rabbitmq
  say "stopped"
}

cmd_status() {
  local pid
  report() { if [[ -n "$3" ]]; then printf '%-9s running  pid %-8s 127.0.0.1:%s\n' "$1" "$3" "$2"; else printf '%-9s stopped\n' "$1"; fi; }
  if postgres_running; then pid="$(head -n1 "$(pg_dir)/data/postmaster.pid")"; else pid=; fi
  report postgres "$PG_PORT" "$pid"
  report redis "$REDIS_PORT" "$(redis_pid || true)"
  report rabbitmq "$AMQP_PORT" "$(rabbit_pid || true)"
  report s3rver "$S3_PORT" "$(s3_pid || true)"
  report slapd "$LDAP_PORT" "$(slapd_pid || true)"
  report ldaps "$LDAPS_PORT" "$(port_open "$LDAPS_PORT" && slapd_pid || true)"
  if [[ -f "$ENV_FILE" ]]; then echo "env file: $ENV_FILE"; else echo "env file: none (services not started)"; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
