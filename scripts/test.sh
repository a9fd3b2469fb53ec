#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs `swift test`.
#
#     scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/ensure-deps.sh
ensure_lua
swift build --build-tests
swift test --skip-build
