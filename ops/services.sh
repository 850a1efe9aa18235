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

for port in "$PG_PORT" "$REDIS_PORT" "$AMQP_PORT" "$AMQP_DIST_PORT" "$S3_PORT" "$LDAP_PORT" "$LDAPS_PORT"; do
  if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    echo "services: invalid port '$port'" >&2
    exit 2
  fi
done

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

# ---------------------------------------------------------------------------------------------- install

install_missing_packages() {
  local missing=()
  [[ -x "$PG_BIN/pg_ctl" ]] || missing+=(postgresql-15)
  [[ -x "$REDIS_SERVER_BIN" ]] || missing+=(redis-server)
  [[ -x "$RABBIT_BIN/rabbitmq-server" ]] || missing+=(rabbitmq-server)
  [[ -x /usr/sbin/slapd ]] || missing+=(slapd)
  [[ -x /usr/bin/ldapsearch ]] || missing+=(ldap-utils)
  [[ -x /usr/sbin/pgbouncer ]] || missing+=(pgbouncer)
  ((${#missing[@]} == 0)) && return 0
  ((EUID == 0)) || die "missing packages: ${missing[*]}; run as root so this script can apt-get install them"

  say "installing ${missing[*]}"
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # Exit code 101 tells invoke-rc.d/deb-systemd-invoke not to start the packages' own daemons.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((made_policy)); then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
}

# ---------------------------------------------------------------------------------------------- postgres

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

# ---------------------------------------------------------------------------------------------- redis

start_redis() {
  local dir="$SVC/redis"
  if live_pid "$dir/redis.pid" redis-server >/dev/null; then say "redis already running"; return; fi
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
  if pid="$(live_pid "$SVC/redis/redis.pid" redis-server)"; then
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

# ---------------------------------------------------------------------------------------------- rabbitmq

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
  mkdir -p "$dir/log" "$dir/mnesia"
  echo '[].' >"$dir/enabled_plugins"
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

# ---------------------------------------------------------------------------------------------- s3rver

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

# ---------------------------------------------------------------------------------------------- openldap

slapd_pid() { live_pid "$SVC/ldap/slapd.pid" slapd; }

# A test CA and a certificate for 127.0.0.1/localhost signed by it, kept across restarts (EC keys: ~50 ms to make);
# made again when a file is missing or the certificate expires within a day.
ensure_ldap_tls() {
  local tls="$SVC/ldap/tls"
  if [[ -s "$tls/ca.crt" && -s "$tls/server.crt" && -s "$tls/server.key" ]] \
    && openssl x509 -checkend 86400 -noout -in "$tls/server.crt" >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$tls"
  mkdir -p "$tls"
  (
    cd "$tls"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=SamaConso test directory CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile server.ext -out server.crt
    rm -f server.csr server.ext ca.srl
    chmod 644 ca.crt server.crt
  ) >"$SVC/ldap-tls.log" 2>&1 || fail_with_log "slapd TLS material" "$SVC/ldap-tls.log"
}

write_ldap_config() {
  local dir="$1" root_hash
  root_hash="$(slappasswd -s "$LDAP_ADMIN_PASSWORD")"
  cat >"$dir/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcTLSCACertificateFile: $dir/tls/ca.crt
olcTLSCertificateFile: $dir/tls/server.crt
olcTLSCertificateKeyFile: $dir/tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $LDAP_BASE_DN
olcDbDirectory: $dir/data
olcRootDN: $LDAP_ADMIN_DN
olcRootPW: $root_hash
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by dn.exact="$LDAP_BIND_DN" read by self read by * none
EOF
}

write_ldap_data() {
  local dir="$1" agent uid given sn agency password
  cat >"$dir/data.ldif" <<EOF
dn: $LDAP_BASE_DN
objectClass: dcObject
objectClass: organization
dc: samaconso
o: SamaConso test directory

dn: ou=services,$LDAP_BASE_DN
objectClass: organizationalUnit
ou: services

dn: $LDAP_BIND_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: svc-samaconso
userPassword: $(slappasswd -s "$LDAP_BIND_PASSWORD")

dn: ou=agents,$LDAP_BASE_DN
objectClass: organizationalUnit
ou: agents
EOF
  for agent in "${LDAP_AGENTS[@]}"; do
    IFS='|' read -r uid given sn agency password <<<"$agent"
    cat >>"$dir/data.ldif" <<EOF

dn: uid=$uid,ou=agents,$LDAP_BASE_DN
objectClass: inetOrgPerson
uid: $uid
cn: $given $sn
givenName: $given
sn: $sn
mail: $uid@samaconso.test
departmentNumber: $agency
userPassword: $(slappasswd -s "$password")
EOF
  done
}

start_ldap() {
  local dir="$SVC/ldap" url="ldap://127.0.0.1:$LDAP_PORT/" urls="ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/"
  if slapd_pid >/dev/null; then
    if port_open "$LDAPS_PORT"; then say "slapd already running"; return; fi
    say "slapd runs without ldaps (started by an older version of this script); restarting it"
    stop_ldap
  fi
  require_free_port "$LDAP_PORT" slapd SERVICES_LDAP_PORT
  require_free_port "$LDAPS_PORT" "slapd (ldaps)" SERVICES_LDAPS_PORT
  # The directory is rebuilt from this script on every start, so it always matches what the tests expect;
  # only the TLS material (tls/) is kept.
  if [[ -d "$dir" ]]; then find "$dir" -mindepth 1 -maxdepth 1 ! -name tls -exec rm -rf {} +; fi
  mkdir -p "$dir/conf" "$dir/data"
  ensure_ldap_tls
  write_ldap_config "$dir"
  write_ldap_data "$dir"
  { slapadd -q -n0 -F "$dir/conf" -l "$dir/config.ldif" && slapadd -q -n1 -F "$dir/conf" -l "$dir/data.ldif"; } \
    >"$dir/slapadd.log" 2>&1 || fail_with_log slapd "$dir/slapadd.log"
  # slapd logs only to syslog (absent here), so a failed start is rerun in the foreground with -d to capture why.
  if ! (ulimit -Sn 1024 && slapd -h "$urls" -F "$dir/conf"); then
    (ulimit -Sn 1024 && timeout 5 slapd -d none -h "$urls" -F "$dir/conf") >"$dir/slapd-debug.log" 2>&1 || true
    fail_with_log slapd "$dir/slapd-debug.log"
  fi
  # The ldaps check verifies the certificate against the test CA, as the tests' clients will.
  wait_for 10 ldapwhoami -x -H "$url" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PASSWORD" \
    && wait_for 5 env LDAPTLS_CACERT="$dir/tls/ca.crt" LDAPTLS_REQCERT=demand \
      ldapwhoami -x -H "ldaps://127.0.0.1:$LDAPS_PORT/" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PASSWORD" || {
    stop_ldap
    (ulimit -Sn 1024 && timeout 5 slapd -d none -h "$urls" -F "$dir/conf") >"$dir/slapd-debug.log" 2>&1 || true
    fail_with_log slapd "$dir/slapd-debug.log"
  }
  say "slapd started on 127.0.0.1:$LDAP_PORT and ldaps 127.0.0.1:$LDAPS_PORT ($LDAP_BASE_DN)"
}

stop_ldap() {
  local pid i
  if pid="$(slapd_pid)"; then
    terminate "$pid" slapd
    # slapd removes its pidfile last; waiting for it means the port is free for the next start.
    for ((i = 0; i < 50; i++)); do [[ -e "$SVC/ldap/slapd.pid" ]] || break; sleep 0.1; done
    say "slapd stopped"
  fi
}

# ---------------------------------------------------------------------------------------------- env file

write_env() {
  local agent uid given sn agency password
  IFS='|' read -r uid given sn agency password <<<"${LDAP_AGENTS[0]}"
  # Values hold no spaces or shell metacharacters, so the file is both sourceable and trivially parsed.
  cat >"$ENV_FILE.tmp" <<EOF
TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
TEST_PG_BIN_DIR=$PG_BIN
TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
TEST_REDIS_SERVER_BIN=$REDIS_SERVER_BIN
TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT
TEST_RABBITMQ_NODE=$RABBIT_NODE
TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
TEST_S3_SECRET_KEY=$S3_SECRET_KEY
TEST_S3_BUCKET=$S3_BUCKET
TEST_LDAP_URL=ldap://127.0.0.1:$LDAP_PORT
TEST_LDAPS_URL=ldaps://127.0.0.1:$LDAPS_PORT
TEST_LDAP_CA_FILE=$SVC/ldap/tls/ca.crt
TEST_LDAP_BASE_DN=$LDAP_BASE_DN
TEST_LDAP_BIND_DN=$LDAP_BIND_DN
TEST_LDAP_BIND_PASSWORD=$LDAP_BIND_PASSWORD
TEST_LDAP_ADMIN_DN=$LDAP_ADMIN_DN
TEST_LDAP_ADMIN_PASSWORD=$LDAP_ADMIN_PASSWORD
TEST_LDAP_AGENT_UID=$uid
TEST_LDAP_AGENT_PASSWORD=$password
TEST_LDAP_AGENT_AGENCY=$agency
TEST_PGBOUNCER_BIN=/usr/sbin/pgbouncer
TEST_SERVICES_DIR=$SVC
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------------- commands

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
  report redis "$REDIS_PORT" "$(live_pid "$SVC/redis/redis.pid" redis-server || true)"
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
