#!/usr/bin/env bash
# Whole-process packet-capture benchmark, all in one run on the same files:
#   cordon replay -c config/cordon.toml FILE   (the agent's own verb: decode, flow table, every
#                                               detector, correlation, the policy engine, store;
#                                               again pinned to one core with taskset -c 0)
#   examples/pcap_replay FILE                  (decode + flow table only: locates detector cost)
#   vs tcpdump -nr FILE -w /dev/null, tshark -r FILE -q -z conv,ip, and cat FILE >/dev/null.
# Generates ~2,000,000-packet captures (mixed traffic, its sessions written one after another
# and, as on a real link, 4,096 of them interleaved; and one million distinct peers) with
# examples/gen_pcap, reports packets/s, ratios and peak RSS (/usr/bin/time -v), and replays
# the mixed capture ten times in one `cordon replay` process to show memory stays flat; last,
# cordon (two threads and one core) against tcpdump in alternating rounds (scripts/ab-time.py), the steadiest ratio.
# Usage: scripts/bench-pcap.sh [WORKDIR]   (installs tcpdump, tshark, time if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/cordon-bench-pcap}
mkdir -p "$W"

need=()
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v tshark >/dev/null || need+=(tshark)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

cargo build -q --release --bin cordon --example gen_pcap --example pcap_replay
BIN=target/release/examples
CORDON=(target/release/cordon replay -c config/cordon.toml --horizon-days 0)
[ -s "$W/mixed.pcap" ] || "$BIN/gen_pcap" "$W/mixed.pcap" --packets 2000000
[ -s "$W/interleaved.pcap" ] || "$BIN/gen_pcap" "$W/interleaved.pcap" --packets 2000000 --interleave 4096
[ -s "$W/peers1m.pcap" ] || "$BIN/gen_pcap" "$W/peers1m.pcap" --packets 2000000 --peers 1000000
PKTS=2000000

# run NAME CMD... -> prints seconds and peak RSS; best of 3 for time, max RSS.
run() {
  local name=$1; shift
  local best=999999 cpu=999999 rss=0
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$W/time.txt" "$@" >"$W/out.txt" 2>/dev/null
    local s r c
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); t=0; for(i=1;i<=n;i++) t=t*60+a[i]; print t}' "$W/time.txt")
    c=$(awk -F': ' '/User time|System time/ {t+=$2} END {print t}' "$W/time.txt")
    r=$(awk -F': ' '/Maximum resident/ {print $2}' "$W/time.txt")
    best=$(awk -v a="$best" -v b="$s" 'BEGIN{print (b<a)?b:a}')
    cpu=$(awk -v a="$cpu" -v b="$c" 'BEGIN{print (b<a)?b:a}')
    [ "$r" -gt "$rss" ] && rss=$r
  done
  # Wall time is what the targets are about; CPU time (user+sys) is printed beside it because
  # this machine is shared and wall time swings with other load.
  printf '%-22s %7.3f s wall %7.3f s cpu %8.2f Mpps %8.1f MB\n' "$name" "$best" "$cpu" \
    "$(awk -v p="$PKTS" -v s="$best" 'BEGIN{print (s>0)?p/s/1e6:0}')" "$(awk -v r="$rss" 'BEGIN{print r/1024}')"
  echo "$best" >"$W/$name.s"
}

echo "host: $(nproc) cores, $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
for f in mixed interleaved peers1m; do
  F="$W/$f.pcap"
  echo "== $f.pcap ($(du -m "$F" | cut -f1) MB, $PKTS packets)"
  run "$f-cordon" "${CORDON[@]}" "$F"
  # The capture is decoded and flow-tracked on a reader thread while the detectors run on the
  # main one (as in `cordon run`); pinned to one core, the same work shares that core.
  run "$f-cordon-1core" taskset -c 0 "${CORDON[@]}" "$F"
  run "$f-flowonly" "$BIN/pcap_replay" "$F"
  run "$f-tcpdump" tcpdump -nr "$F" -w /dev/null
  run "$f-cat" sh -c "cat '$F' >/dev/null"
  if [ "$f" = mixed ]; then run "$f-tshark" tshark -r "$F" -q -z conv,ip; fi
  echo "   cordon replay: $("${CORDON[@]}" "$F" 2>&1 >/dev/null | tail -n 1)"
  echo "   flow engine only: $("$BIN/pcap_replay" "$F")"
  awk -v c="$(cat "$W/$f-cordon.s")" -v t="$(cat "$W/$f-tcpdump.s")" \
    'BEGIN{printf "   cordon is %.2fx tcpdump -w /dev/null\n", t/c}'
  awk -v c="$(cat "$W/$f-cordon-1core.s")" -v t="$(cat "$W/$f-tcpdump.s")" \
    'BEGIN{printf "   cordon on one core is %.2fx tcpdump -w /dev/null\n", t/c}'
  [ -f "$W/$f-tshark.s" ] && awk -v c="$(cat "$W/$f-cordon.s")" -v t="$(cat "$W/$f-tshark.s")" \
    'BEGIN{printf "   cordon is %.1fx tshark -z conv,ip\n", t/c}'
done

echo "== memory flat under repetition (mixed.pcap x1 vs x10 in one cordon replay process)"
PKTS=2000000 run "repeat-x1" "${CORDON[@]}" "$W/mixed.pcap"
M=$W/mixed.pcap
PKTS=20000000 run "repeat-x10" "${CORDON[@]}" "$M" "$M" "$M" "$M" "$M" "$M" "$M" "$M" "$M" "$M"

# Whole runs of three swing by a third from minute to minute on a shared host; alternating
# rounds and the median of each round's ratio are far steadier (scripts/ab-time.py).
echo "== cordon (two threads, and pinned to one core) vs tcpdump, 11 alternating rounds (median of per-round ratios)"
for f in mixed interleaved; do
  F="$W/$f.pcap"
  echo "-- $f.pcap"
  python3 scripts/ab-time.py 11 cordon "${CORDON[*]} $F" \
    cordon-1core "taskset -c 0 ${CORDON[*]} $F" \
    tcpdump-1core "taskset -c 0 tcpdump -nr $F -w /dev/null"
done
