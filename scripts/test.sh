#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs `swift test`.
#
#     scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/ensure-deps.sh
ensure_lua
swift build --build-tests
# One test at a time: several suites deliberately spin Lua runaways for seconds or
# start gateways and load them; run side by side on 2 cores they starve each other's
# event loops and the few waits that must stay bounded. Serially the run takes ~2 min.
swift test --skip-build --no-parallel
