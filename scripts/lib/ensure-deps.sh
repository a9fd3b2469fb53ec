# Sourced by the scripts in scripts/: installs what building Moongate needs on a
# fresh Debian machine (Lua 5.4 headers and pkg-config) when it is missing.
ensure_lua() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists lua5.4; then
        return 0
    fi
    echo "moongate: installing liblua5.4-dev and pkg-config with apt-get" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends liblua5.4-dev pkg-config \
        || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends liblua5.4-dev pkg-config; }
}
