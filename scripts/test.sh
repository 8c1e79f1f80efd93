#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run execs this file):
#   system packages, rustfmt, clippy (warnings are errors), unit + integration tests, doc tests,
#   and the API docs (broken or private intra-doc links are errors).
# Benches are compiled by clippy but not run (`cargo bench` runs them; see README).
# Tests that need root (network namespaces, live capture) skip themselves when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
if [ "${CI:-}" = "true" ]; then
  export CARGO_TERM_COLOR=never
fi
JOBS=${CARGO_JOBS:-2}

step() {
  local name=$1
  shift
  echo
  echo "==> $name: $*"
  local t0
  t0=$(date +%s)
  if ! "$@"; then
    echo
    echo "FAILED: $name (command: $*) after $(( $(date +%s) - t0 ))s;" \
      "total $(( $(date +%s) - start ))s" >&2
    exit 1
  fi
  echo "--- $name ok ($(( $(date +%s) - t0 ))s)"
}

command -v cargo >/dev/null || { echo "FAILED: cargo not found on PATH (install the Rust toolchain)" >&2; exit 1; }

step "system packages" bash scripts/setup-deps.sh
step "format" cargo fmt --all -- --check
step "clippy" cargo clippy -j"$JOBS" --all-targets -- -D warnings
step "tests" cargo test -j"$JOBS" --lib --bins --tests
step "doc tests" cargo test -j"$JOBS" --doc
step "docs" env RUSTDOCFLAGS="-D warnings" cargo doc -j"$JOBS" --no-deps --lib

total=$(( $(date +%s) - start ))
echo
echo "All checks passed in $((total / 60))m$((total % 60))s."
