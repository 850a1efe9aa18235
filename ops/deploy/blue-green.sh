#!/usr/bin/env bash
# Blue-green deployment of the API on one API host (ops/deploy/blue-green.md says when and why; read it first).
# Two colours of the API unit run side by side, samaconso-api@blue and samaconso-api@green, each on its own ports
# (/etc/samaconso/api-<colour>.env: PORT, OPS_PORT) and its own release (/opt/samaconso/<colour> → releases/<v>).
# The load balancer sends traffic to one colour: the active one (/etc/samaconso/active-colour).
#
#   blue-green.sh deploy <version> [--migrate]  start <version> on the idle colour, wait until it is ready, switch
#                                               the load balancer to it; the old colour keeps running (rollback)
#   blue-green.sh rollback                      switch back to the previous colour (still running)
#   blue-green.sh finish                        stop the previous colour once the new one has proved itself
#   blue-green.sh status                        active colour, and each colour's release and readiness
#
# --migrate: run the release's migrations first (samaconso-migrate@<colour>, direct to PostgreSQL); on ONE host
# only, the first one deployed. Migrations must be ones the running version tolerates (blue-green.md, "Migrations").
# The switch itself is LB_SWITCH_COMMAND from /etc/samaconso/blue-green.env, called with the colour and its API
# port (the load balancer is the utility's: HAProxy, nginx …; blue-green.md has an example).
# Exit status: 0 done; 1 a step failed (the load balancer still points at the colour it pointed at before); 2 usage.
set -euo pipefail

ROOT="${SAMACONSO_ROOT:-/opt/samaconso}"
ETC="${SAMACONSO_ETC:-/etc/samaconso}"
READY_TIMEOUT_S="${READY_TIMEOUT_S:-120}"
STATE="$ETC/active-colour"
PREVIOUS="$ETC/previous-colour"

say() { echo "blue-green: $*"; }
die() { echo "blue-green: $*" >&2; exit 1; }
usage() { sed -n '7,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ -f "$ETC/blue-green.env" ]] && source "$ETC/blue-green.env"

other() { [[ "$1" == blue ]] && echo green || echo blue; }
active() { if [[ -s "$STATE" ]]; then tr -dc a-z <"$STATE"; else echo blue; fi; }
port_of() {
  local value
  value="$(sed -n "s/^$2=\([0-9]\{1,5\}\)\s*$/\1/p" "$ETC/api-$1.env" | tail -n1)"
  [[ -n "$value" ]] || die "no $2 in $ETC/api-$1.env"
  echo "$value"
}

# Ready: GET /health/ready on the colour's API port answers 200 (every required part up: PostgreSQL, Redis, broker).
ready() { curl --silent --fail --max-time 3 --output /dev/null "http://127.0.0.1:$(port_of "$1" PORT)/health/ready"; }
wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until ready "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

switch_to() {
  [[ -n "${LB_SWITCH_COMMAND:-}" ]] || die "set LB_SWITCH_COMMAND in $ETC/blue-green.env"
  $LB_SWITCH_COMMAND "$1" "$(port_of "$1" PORT)" || die "the load balancer switch to $1 failed; it still points at $(active)"
  other "$1" >"$PREVIOUS"
  echo "$1" >"$STATE"
  say "load balancer now on $1"
}

deploy() {
  local version="$1" migrate="$2" from to release
  from="$(active)"
  to="$(other "$from")"
  release="$ROOT/releases/$version"
  [[ -d "$release" ]] || die "no release at $release (unpack it there first)"
  ln -sfn "$release" "$ROOT/$to"
  say "$to → $version (active: $from)"
  if ((migrate)); then
    say "migrating with $version (samaconso-migrate@$to)"
    systemctl start "samaconso-migrate@$to.service" || die "migrations failed: nothing switched, $from still serves (journalctl -u samaconso-migrate@$to)"
  fi
  systemctl restart "samaconso-api@$to.service" || die "samaconso-api@$to did not start; $from still serves"
  wait_ready "$to" || die "samaconso-api@$to not ready within ${READY_TIMEOUT_S} s; $from still serves (journalctl -u samaconso-api@$to)"
  switch_to "$to"
  say "watch the alerts and the dashboard; 'blue-green.sh rollback' switches back to $from, 'blue-green.sh finish' stops it"
}

rollback() {
  local back
  [[ -s "$PREVIOUS" ]] || die "no previous colour recorded: nothing to roll back to"
  back="$(tr -dc a-z <"$PREVIOUS")"
  ready "$back" || die "$back is not ready (stopped by finish?): start it first (systemctl start samaconso-api@$back)"
  switch_to "$back"
}

finish() {
  local old
  [[ -s "$PREVIOUS" ]] || die "no previous colour recorded"
  old="$(tr -dc a-z <"$PREVIOUS")"
  [[ "$old" != "$(active)" ]] || die "$old is the active colour"
  systemctl stop "samaconso-api@$old.service"
  say "stopped samaconso-api@$old; $(active) serves alone"
}

status() {
  local c
  say "active: $(active)"
  for c in blue green; do
    say "$c: $(readlink "$ROOT/$c" 2>/dev/null || echo 'no release'), $(ready "$c" && echo ready || echo 'not ready')"
  done
}

case "${1:-}" in
  deploy)
    [[ $# -ge 2 && $# -le 3 ]] || usage
    [[ "$2" =~ ^[A-Za-z0-9._-]+$ ]] || die "'$2' is not a release name"
    [[ $# -eq 2 || "$3" == --migrate ]] || usage
    deploy "$2" $(($# == 3))
    ;;
  rollback) rollback ;;
  finish) finish ;;
  status) status ;;
  *) usage ;;
esac
