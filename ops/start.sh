#!/usr/bin/env bash
# `npm start`: installs dependencies when missing, builds, then runs the API with the given arguments.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ -d node_modules ]] || npm ci
npm run build
exec node dist/src/main.js "$@"
