#!/usr/bin/env bash
# `npm test`: installs dependencies, typechecks, starts the real services, runs vitest (extra args passed through)
# and always stops the services again, whatever vitest's outcome.
# Vitest runs two projects (vitest.config.ts), the second only once the first has finished (sequence.groupOrder):
# `main` (test/unit, test/integration, test/e2e) then `cluster` (test/cluster: three-node RabbitMQ clusters in
# network namespaces, one file at a time, a few minutes; needs root and fails, not skips, without it).
# Arguments go to vitest as they are: `npm test -- test/cluster/rabbit-cluster.test.ts` runs that file in its project,
# `npm test -- --project main` leaves the cluster out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm rewrites node_modules/.package-lock.json on every install: older than the lockfile means out of date.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci
fi
npm run typecheck

# Services a developer started by hand (`services.sh start`, which writes .services/env) stay up afterwards;
# otherwise the trap, armed before start so a start that fails halfway still cleans up, stops them.
if [[ -f .services/env ]] && ! bash ops/services.sh status | grep -q ' stopped'; then
  trap '' EXIT
else
  trap 'bash ops/services.sh stop' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM
bash ops/services.sh start

status=0
npx vitest run "$@" || status=$?
exit "$status"
