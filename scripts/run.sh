#!/usr/bin/env bash
# Builds the release binary and starts it.
#
#     scripts/run.sh              # the gateway on its built-in quickstart (curl :8000/hello)
#     scripts/run.sh ARGS...      # any moongate command line
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/ensure-deps.sh
ensure_lua
swift build -c release --product moongate
if [ "$#" -eq 0 ]; then set -- run; fi
exec .build/release/moongate "$@"
