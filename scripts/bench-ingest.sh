#!/usr/bin/env bash
# Whole-process log-ingest benchmark, all tools on the same files in the same run:
#   cat FILE >/dev/null (floor)
#   cordon replay -c config/cordon.toml --format F --horizon-days 0 FILE   (release build)
#   cordon parse --format F FILE  (parser alone + JSON output; locates parser vs pipeline cost)
#   fail2ban-regex FILE /etc/fail2ban/filter.d/sshd.conf   (sshd only; on a prefix, see PEER_N)
#   crowdsec time-machine mode (-dsn file://… -type …)     (if installed; on a prefix, see CS_N)
# Files: sshd.log, netfilter.log, eve.json from scripts/gen-logs.py (N lines each, default
# 1,000,000), generated once into $BENCH_DIR/N and reused.
# Reports wall time, lines/s, MB/s, peak RSS (/usr/bin/time -v) and ratios.
# Peers that are much slower are measured on the first PEER_N / CS_N lines and their rate is
# stated for that prefix (rates are per line, so comparable; the table says which).
# Usage: scripts/bench-ingest.sh [N]     env: BENCH_DIR (/tmp/cordon-bench-logs), REPS (3; best wall time of REPS runs, cordon and fail2ban-regex alike),
#        PEER_N (100000), CS_N (50000), NO_CROWDSEC=1 to skip CrowdSec.
# Needs root for apt-get (fail2ban, crowdsec, time are installed if missing).
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BENCH_DIR=${BENCH_DIR:-/tmp/cordon-bench-logs}
REPS=${REPS:-3}
PEER_N=${PEER_N:-100000}
CS_N=${CS_N:-50000}
D="$BENCH_DIR/$N"
W=$(mktemp -d /tmp/cordon-bench-ingest.XXXXXX)
RES="$W/results.tsv"
: >"$RES"
note() { echo "# $*"; echo "note	$*" >>"$RES"; }

# ---- peers (idempotent) ----
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v fail2ban-regex >/dev/null || need+=(fail2ban)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ -z "${NO_CROWDSEC:-}" ] && ! command -v crowdsec >/dev/null; then
  # Debian's postinst registers to the online Central API and fails offline, but the binary
  # and the offline hub are unpacked; we configure what we need ourselves below.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq crowdsec >/dev/null 2>&1 ||
    echo "# apt-get install crowdsec reported an error (postinst needs the online CAPI); trying the unpacked binary"
fi

# CrowdSec offline setup: link Debian's offline hub (what its postinst does when it succeeds),
# enable the sshd / iptables / suricata parsers and scenarios, and add the hub's tiny
# `non-syslog` s00 parser (missing from Debian's offline hub) so EVE lines reach suricata-logs.
crowdsec_setup() {
  local H=/usr/share/crowdsec/hub L=/var/lib/crowdsec/hub E=/etc/crowdsec p d
  [ -d "$H" ] && [ -s "$E/local_api_credentials.yaml" ] || return 1
  if [ ! -L "$L/.index.json" ]; then
    rm -rf "$L" && mkdir -p "$L"
    for p in blockers collections parsers postoverflows scenarios .index.json; do ln -s "$H/$p" "$L/$p"; done
  fi
  for p in parsers/s00-raw/crowdsecurity/syslog-logs.yaml parsers/s01-parse/crowdsecurity/sshd-logs.yaml \
    parsers/s01-parse/crowdsecurity/iptables-logs.yaml parsers/s01-parse/crowdsecurity/suricata-logs.yaml \
    parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml scenarios/crowdsecurity/ssh-bf.yaml \
    scenarios/crowdsecurity/ssh-slow-bf.yaml scenarios/crowdsecurity/iptables-scan-multi_ports.yaml \
    scenarios/crowdsecurity/suricata-alerts.yaml; do
    d=$(dirname "$(dirname "$p")")
    mkdir -p "$E/$d" && ln -sfn "$L/$p" "$E/$d/$(basename "$p")"
  done
  cat >"$E/parsers/s00-raw/non-syslog.yaml" <<'Y'
# Same as the hub's crowdsecurity/non-syslog (absent from Debian's offline hub).
filter: "evt.Line.Labels.type != 'syslog'"
onsuccess: next_stage
name: crowdsecurity/non-syslog
description: "raw non-syslog lines"
statics:
  - parsed: message
    expression: evt.Line.Raw
  - parsed: program
    expression: evt.Line.Labels.type
  - meta: datasource_path
    expression: evt.Line.Src
  - meta: datasource_type
    expression: evt.Line.Module
Y
}
HAVE_CS=
if [ -z "${NO_CROWDSEC:-}" ] && command -v crowdsec >/dev/null; then
  if crowdsec_setup; then HAVE_CS=1; else note "crowdsec: installed but not configurable offline; skipped"; fi
elif [ -z "${NO_CROWDSEC:-}" ]; then
  note "crowdsec: not installable; skipped"
fi

# ---- build and data ----
cargo build -q --release || exit 1
CORDON=target/release/cordon
if [ ! -e "$D/.done" ]; then
  python3 scripts/gen-logs.py "$N" "$D" && touch "$D/.done" || exit 1
fi

# measure TOOL FILE LINES CMD... : best wall of REPS, max RSS; stdout to /dev/null.
measure() {
  local tool=$1 file=$2 lines=$3 bytes best=999999 rss=0 t0 t1 s r rc
  shift 3
  bytes=$(head -n "$lines" "$D/$file" | wc -c)
  for _ in $(seq "$REPS"); do
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$W/time.txt" "$@" >/dev/null 2>"$W/err.txt"
    rc=$?
    t1=$(date +%s%N)
    [ $rc -eq 0 ] || { echo "# $tool on $file failed (rc=$rc):"; tail -n 3 "$W/err.txt"; return 1; }
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
    r=$(awk -F': ' '/Maximum resident/ {print $2}' "$W/time.txt")
    best=$(awk -v a="$best" -v b="$s" 'BEGIN{print (b<a)?b:a}')
    [ "$r" -gt "$rss" ] && rss=$r
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$tool" "$lines" "$bytes" "$best" "$rss" >>"$RES"
  echo "# $file $tool: ${best}s, ${rss} KB"
}

# CrowdSec's time-machine mode keeps serving its local API after the file is processed, so
# it is timed from start until it logs that its bucket routine (last stage) has exited, then
# stopped; peak RSS still comes from /usr/bin/time -v.
measure_crowdsec() {
  local file=$1 type=$2 lines=$3 pfx="$W/cs-$1" t0 t1 tp pid s r bytes
  head -n "$lines" "$D/$file" >"$pfx"
  bytes=$(wc -c <"$pfx")
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$W/time.txt" crowdsec -c /etc/crowdsec/config.yaml -dsn "file://$pfx" \
    -type "$type" >"$W/cs.log" 2>&1 &
  tp=$!
  local deadline=$(( $(date +%s) + 900 ))
  until grep -q "Bucket routine exiting\|level=fatal" "$W/cs.log"; do
    sleep 0.1
    [ "$(date +%s)" -lt $deadline ] || break
  done
  t1=$(date +%s%N)
  pid=$(pgrep -P "$tp" crowdsec || true)
  # It can linger for minutes after SIGTERM while shutting down its API: KILL after 10 s.
  if [ -n "$pid" ]; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  wait "$tp" 2>/dev/null
  if grep -q "level=fatal" "$W/cs.log" || ! grep -q "Bucket routine exiting" "$W/cs.log"; then
    note "crowdsec on $file did not finish: $(grep -m1 'level=fatal' "$W/cs.log" | cut -c1-160)"
    return 1
  fi
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
  r=$(awk -F': ' '/Maximum resident/ {print $2}' "$W/time.txt")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "crowdsec" "$lines" "$bytes" "$s" "$r" >>"$RES"
  echo "# $file crowdsec ($lines-line prefix): ${s}s, ${r} KB"
}

[ "$PEER_N" -gt "$N" ] && PEER_N=$N
[ "$CS_N" -gt "$N" ] && CS_N=$N
head -n "$PEER_N" "$D/sshd.log" >"$W/sshd-prefix.log"

for spec in sshd.log:sshd:syslog netfilter.log:netfilter:syslog eve.json:suricata_eve:suricata-evelogs; do
  IFS=: read -r file fmt cstype <<<"$spec"
  f="$D/$file"
  cat "$f" >/dev/null # warm the page cache
  measure cat "$file" "$N" cat "$f"
  measure "cordon replay" "$file" "$N" "$CORDON" replay -c config/cordon.toml --format "$fmt" --horizon-days 0 "$f"
  measure "cordon parse" "$file" "$N" "$CORDON" parse --format "$fmt" "$f"
  if [ "$file" = sshd.log ]; then
    measure fail2ban-regex "$file" "$PEER_N" fail2ban-regex "$W/sshd-prefix.log" /etc/fail2ban/filter.d/sshd.conf
  fi
  [ -n "$HAVE_CS" ] && measure_crowdsec "$file" "$cstype" "$CS_N"
done

echo
echo "## cordon ingest benchmark, $(date -u +%Y-%m-%dT%H:%MZ), N=$N lines/file, REPS=$REPS, $(nproc) cores"
python3 - "$RES" <<'PY'
import sys
rows, notes = [], []
for l in open(sys.argv[1]):
    p = l.rstrip("\n").split("\t")
    if p[0] == "note":
        notes.append(p[1]); continue
    f, tool, lines, b, s, rss = p
    rows.append((f, tool, int(lines), int(b), float(s), int(rss)))
rate = {(f, t): (n / s if s else float("inf")) for f, t, n, b, s, r in rows}
print("| file | tool | lines timed | wall s | lines/s | MB/s | peak RSS MB | cordon replay speedup vs this | this / cat time per line |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for f, tool, n, b, s, rss in rows:
    lps = n / s if s else float("inf")
    mbs = b / 1e6 / s if s else float("inf")
    cr = rate.get((f, "cordon replay"))
    sp = f"{cr / lps:,.1f}×" if cr and tool not in ("cat", "cordon replay", "cordon parse") else ""
    cat = rate.get((f, "cat"))
    vc = f"{cat / lps:,.1f}×" if cat and tool != "cat" else ""
    print(f"| {f} | {tool} | {n:,} | {s:.2f} | {lps:,.0f} | {mbs:,.1f} | {rss / 1024:,.1f} | {sp} | {vc} |")
for n in notes:
    print(f"\nNote: {n}")
PY
echo
echo "Peers slower than cordon run on a prefix (fail2ban-regex: first PEER_N=$PEER_N lines of sshd.log;"
echo "crowdsec: first CS_N=$CS_N lines of each file), so their lines/s are for that prefix."
echo "CrowdSec ran in time-machine mode with its local API in-process (it cannot push alerts"
echo "without one), timed until its bucket routine exits; its rate includes writing alerts to SQLite."
rm -rf "$W"
