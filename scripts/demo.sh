#!/usr/bin/env bash
# Runs the agent on the bundled demo config and captures (config/cordon.toml, captures/).
# State goes to var/ (database var/cordon.db, notices in var/outbox/); hooks run in dry_run
# (nothing is executed); answer pages and /metrics on http://127.0.0.1:8088. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh
cargo build --release
mkdir -p var/outbox
echo "demo: starting cordon (Ctrl-C to stop); look in var/outbox/ and http://127.0.0.1:8088/metrics"
exec target/release/cordon run -c config/cordon.toml
