# Installs the Debian packages of the services when missing (root), without starting their own daemons. Sourced by ops/services.sh.

install_missing_packages() {
  local missing=()
  [[ -x "$PG_BIN/pg_ctl" ]] || missing+=(postgresql-15)
  [[ -x "$REDIS_SERVER_BIN" ]] || missing+=(redis-server)
  [[ -x "$RABBIT_BIN/rabbitmq-server" ]] || missing+=(rabbitmq-server)
  [[ -x /usr/sbin/slapd ]] || missing+=(slapd)
  [[ -x /usr/bin/ldapsearch ]] || missing+=(ldap-utils)
  [[ -x /usr/sbin/pgbouncer ]] || missing+=(pgbouncer)
  # Not services: the tools npm test checks the deployment files with (ops/deploy).
  [[ -x /usr/bin/promtool ]] || missing+=(prometheus)
  [[ -x /usr/bin/amtool ]] || missing+=(prometheus-alertmanager)
  # systemd-analyze verify checks the units of ops/deploy/systemd/ (test/integration/deploy-tools.test.ts).
  [[ -x /usr/bin/systemd-analyze ]] || missing+=(systemd)
  # The browser the on-call dashboard's test drives through playwright-core (test/e2e/on-call-dashboard.test.ts).
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # The load balancer in front of two API processes in the scale-out tests (test/cluster/), and the check of
  # ops/deploy/haproxy/haproxy.cfg.
  [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
  # ip netns, veth pairs and a bridge for the three-node RabbitMQ test cluster (test/support/rabbit-cluster.ts).
  [[ -x /usr/sbin/ip || -x /sbin/ip ]] || missing+=(iproute2)
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
