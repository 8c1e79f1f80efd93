#!/usr/bin/env bash
# Fuzz the parsers and the packet decoder with cargo-fuzz (libFuzzer) on the STABLE toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGETs default to every target in fuzz/ (`cargo fuzz list`).
# Installs cargo-fuzz if it is missing, builds all targets once, then runs each from its seeds
# (fuzz/seeds/<target>, committed) plus its working corpus (fuzz/corpus/<target>, gitignored,
# grows across runs). Exits non-zero if any target crashes, panics, times out or runs out of
# memory; the input that did it is in fuzz/artifacts/<target>/.
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer, sanitizer-coverage passes).
# RUSTC_BOOTSTRAP=1 lets the stable compiler accept them; that is all this script relies on.
# Not part of scripts/test.sh: ten targets at 60 s plus the ASan build do not fit CI's budget.
#
# Environment: FUZZ_SANITIZER (address|none, default address; falls back to none if the ASan
# build fails), CARGO_JOBS (build jobs, default 2), FUZZ_TIMEOUT (seconds one input may take
# before libFuzzer calls it a hang, default 10), FUZZ_RSS_MB (memory limit, default 2048).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs=${1:-60}
if [ $# -gt 0 ]; then shift; fi
case $secs in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=${CARGO_JOBS:-2}
if [ "${CI:-}" = "true" ]; then export CARGO_TERM_COLOR=never; fi
# Use the stable toolchain explicitly where rustup manages toolchains (so a nightly default or
# a rust-toolchain file elsewhere does not change what is measured); plain cargo otherwise.
cargo=(cargo)
if command -v rustup >/dev/null && rustup toolchain list | grep -q '^stable'; then
  cargo=(cargo +stable)
fi

if ! "${cargo[@]}" fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  "${cargo[@]}" install cargo-fuzz --locked --version '^0.13'
fi

san=${FUZZ_SANITIZER:-address}
echo "==> build ($("${cargo[@]}" fuzz --version), $(rustc +stable --version 2>/dev/null || rustc --version), sanitizer $san)"
if ! "${cargo[@]}" fuzz build -s "$san"; then
  if [ "$san" = none ]; then
    echo "FAILED: cargo fuzz build" >&2
    exit 1
  fi
  echo "WARNING: build with sanitizer $san failed; retrying without a sanitizer" >&2
  san=none
  "${cargo[@]}" fuzz build -s "$san" || { echo "FAILED: cargo fuzz build" >&2; exit 1; }
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <("${cargo[@]}" fuzz list)
fi

logs=target/fuzz-logs
mkdir -p "$logs"
failed=()
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  seeds=()
  if [ -d "seeds/$t" ]; then seeds=("seeds/$t"); else echo "note: no seeds/$t, starting empty"; fi
  echo
  echo "==> $t: ${secs}s (log $PWD/$logs/$t.log)"
  set +e
  "${cargo[@]}" fuzz run -s "$san" "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
    -print_final_stats=1 >"$logs/$t.log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -1)
  cov0=$(grep -m1 -o 'INITED cov: [0-9]*' "$logs/$t.log" | cut -d' ' -f3)
  cov=$(grep -o 'cov: [0-9]*' "$logs/$t.log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*' "$logs/$t.log" | tail -1 | cut -d' ' -f2)
  if [ $rc -eq 0 ]; then
    status=ok
  else
    status="FAILED (exit $rc)"
    failed+=("$t")
    grep -E '^(==[0-9]+==|thread .* panicked|SUMMARY|Test unit written|artifact_prefix|.*Timeout|.*out-of-memory)' \
      "$logs/$t.log" | head -20 >&2 || tail -30 "$logs/$t.log" >&2
  fi
  line=$(printf '%-13s %10s %7s %8s %5s %6s  %s' "$t" "${execs:--}" "${rate:--}" "${cov0:--}" "${cov:--}" \
    "${corp:--}" "$status")
  echo "$line"
  summary+=("$line")
done

echo
echo "==> summary (${secs}s per target, sanitizer $san)"
printf '%-13s %10s %7s %8s %5s %6s  %s\n' target execs exec/s seed-cov cov corpus status
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (inputs in $PWD/artifacts/<target>/, logs in $PWD/$logs/)" >&2
  exit 1
fi
echo "all ${#targets[@]} targets ran ${secs}s without a crash"
