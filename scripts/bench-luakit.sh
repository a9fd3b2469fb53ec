#!/usr/bin/env bash
# Micro-benchmarks of the Swift <-> Lua boundary (release build). Figures: docs/luakit.md.
#
#     scripts/bench-luakit.sh                 # all measurements, 7 rounds each
#     LUAKIT_BENCH=yield scripts/bench-luakit.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/ensure-deps.sh
ensure_lua
swift build -c release --product luakit-bench
exec .build/release/luakit-bench
