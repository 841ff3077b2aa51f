#!/usr/bin/env bash
# Starts havend on 127.0.0.1:7443 with the development configuration; on the
# first run it makes the data directory, the master key, the audit signing
# key and the first administrator, whose one-time password it prints (a
# .dev made before audit signing keys gets its key on the next run).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
config=deploy/havend.dev.textproto
mkdir -p .dev
chmod 700 .dev
"$build/services/server/havend" init --config "$config"
echo "starting havend on 127.0.0.1:7443 (Ctrl-C stops it); try: $build/clients/havenctl/havenctl login admin"
exec "$build/services/server/havend" --config "$config"
