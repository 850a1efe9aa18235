#!/bin/sh
# Entry point of the SamaConso image: ROLE picks what the container runs. `api`, `worker` (and `all`, one process
# doing both, for a small installation) start the node; `migrate` applies the pending migrations on the direct
# PostgreSQL connection (DATABASE_MIGRATION_URL) and exits. exec: node replaces this shell, so the container's
# SIGTERM (sent straight, or forwarded by compose's `init`) reaches node and its graceful shutdown runs.
set -eu
case "${ROLE:-api}" in
  api | worker | all) exec node --enable-source-maps dist/src/main.js "$@" ;;
  migrate) exec node --enable-source-maps dist/src/cli/migrate.js "$@" ;;
  *)
    echo "docker-entrypoint: ROLE must be api, worker, all or migrate (got '${ROLE}')" >&2
    exit 2
    ;;
esac
