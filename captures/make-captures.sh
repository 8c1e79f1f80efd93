#!/usr/bin/env bash
# Make the sample captures in this folder with real tools in two network namespaces.
#
#   cordon-cap-a  "campus" host 10.20.0.2/24, default route via 10.20.0.1
#   cordon-cap-b  the "outside": router 10.20.0.1 plus 198.51.100.0/24 (a documentation
#                 range that exists only inside this namespace) with extra addresses
#   joined by the veth pair cap-a <-> cap-b; tcpdump records on cap-a.
#
# Needs root. Installs its tools idempotently. Namespaces and background processes are removed
# on exit, even on failure. Usage: sudo captures/make-captures.sh [OUTDIR]
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
A=cordon-cap-a
B=cordon-cap-b
PIDS=()
TMP=$(mktemp -d)

[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 1; }

need=()
for t in nmap:nmap hping3:hping3 tcpdump:tcpdump swaks:swaks ssh:openssh-client ip:iproute2 \
         curl:curl dig:dnsutils editcap:wireshark-common python3:python3; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  ip netns pids "$B" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns pids "$A" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns del "$A" 2>/dev/null
  ip netns del "$B" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

ip netns del "$A" 2>/dev/null || true
ip netns del "$B" 2>/dev/null || true
ip netns add "$A"
ip netns add "$B"
ip link add cap-a netns "$A" type veth peer name cap-b netns "$B"
inA ip link set lo up
inB ip link set lo up
inA ip link set cap-a address 02:00:00:00:0a:02 up
inB ip link set cap-b address 02:00:00:00:0b:01 up
inA ip addr add 10.20.0.2/24 dev cap-a
inA ip route add default via 10.20.0.1
inB ip addr add 10.20.0.1/24 dev cap-b
inB ip addr add 198.51.100.2/24 dev cap-b
# Live hosts for the sweep (.10-.39) and mail exchangers for the spam burst (.100-.139).
for i in $(seq 10 39) $(seq 100 139); do inB ip addr add "198.51.100.$i/32" dev cap-b; done
# No forwarding in b: packets to unassigned outside addresses vanish, as past a real edge.
inB sysctl -qw net.ipv4.ip_forward=0

# Services in b.
mkdir -p "$TMP/www"
head -c 100000 /dev/urandom >"$TMP/www/file.bin"
echo "<html>cordon capture</html>" >"$TMP/www/index.html"
(cd "$TMP/www" && exec ip netns exec "$B" python3 -m http.server 80 --bind 0.0.0.0 >/dev/null 2>&1) &
PIDS+=($!)
inB python3 "$HERE/tools/sinks.py" smtp 25 >/dev/null 2>&1 &
PIDS+=($!)
inB python3 "$HERE/tools/sinks.py" dns 53 198.51.100.2 >/dev/null 2>&1 &
PIDS+=($!)
if command -v /usr/sbin/sshd >/dev/null; then
  ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey"
  inB /usr/sbin/sshd -D -p 22 -h "$TMP/hostkey" -o PidFile=none -o PasswordAuthentication=yes \
    -o MaxStartups=100:30:200 >/dev/null 2>&1 &
else
  inB python3 "$HERE/tools/sinks.py" ssh 22 >/dev/null 2>&1 &
fi
PIDS+=($!)
sleep 1

# Record one scenario: capture NAME LINKIF -- command...
capture() {
  local name=$1; shift
  local iface=$1; shift
  local f="$OUT/$name.pcap"
  # CAPTURE_FILTER (tcpdump syntax), when set, is what the "span port" lets through.
  ip netns exec "$A" tcpdump -i "$iface" -s 262144 -U -w "$f" ${CAPTURE_FILTER:+"$CAPTURE_FILTER"} \
    2>"$TMP/tcpdump.log" &
  local tp=$!
  for _ in $(seq 50); do grep -q "listening on" "$TMP/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  local t0=$SECONDS
  "$@" || echo "  ($name: command exited $?)"
  sleep 1
  kill -INT "$tp"; wait "$tp" 2>/dev/null || true
  echo "$name.pcap: $(tcpdump -nr "$f" 2>/dev/null | wc -l) packets, $((SECONDS - t0)) s"
}

# 1. Vertical TCP SYN scan of one outside host, ports 1-1000.
capture scan cap-a inA nmap -n -Pn -sS -T4 --max-retries 1 -p 1-1000 198.51.100.2

# 2. Ping sweep of the outside /24 (IP-level probes, not ARP: the /24 is routed).
capture sweep cap-a inA nmap -n -sn -T4 --max-retries 1 198.51.100.0/24

# 3. SYN flood against one outside web server from the real campus address (bounded count).
capture flood cap-a inA hping3 -q -S -p 80 -c 2000 --faster 198.51.100.2

# 4. The same flood with random (spoofed) source addresses: nobody may be blamed for it.
capture flood-spoofed cap-a inA hping3 -q -S -p 80 -c 2000 --faster --rand-source 198.51.100.2

# 5. Outbound spam burst: 40 messages, each to a different outside mail exchanger.
spam() {
  for i in $(seq 100 139); do
    inA swaks -4 --silent 2 --server "198.51.100.$i" --from "noreply@campus.test" \
      --to "victim$i@example.test" --h-Subject "cheap watches" --body "buy now" || true
  done
}
capture spam cap-a spam

# 6. Repeated SSH login attempts (45 connections, each failing authentication: above the
#    default 30 connections to one server in 5 minutes even if tcpdump misses the first).
ssh_attempts() {
  for i in $(seq 1 45); do
    inA timeout 5 ssh -n -o BatchMode=yes -o StrictHostKeyChecking=no \
      -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 -o PreferredAuthentications=password \
      "root@198.51.100.2" true >/dev/null 2>&1 || true
  done
}
# Recorded on the "any" pseudo-interface: Linux cooked (SLL2) framing.
capture ssh any ssh_attempts

# 7. Background: web downloads and DNS lookups that must produce no finding.
background() {
  for i in 1 2 3 4 5; do
    inA dig +short +tries=1 +time=2 @198.51.100.2 "www$i.example.test" >/dev/null || true
    inA curl -s -o /dev/null "http://198.51.100.2/file.bin"
    inA curl -s -o /dev/null "http://198.51.100.2/index.html"
    sleep 0.2
  done
}
capture background cap-a background
# pcapng copy for the reader's pcapng path.
editcap -F pcapng "$OUT/background.pcap" "$OUT/background.pcapng"

# 8. Split routing: the campus host fetches a page from 130 outside web servers, and the
#    capture is a span port that misses the uplink their answers come back on: it carries
#    answers from 198.51.100.2 only. Every connection succeeded; none may count as a probe.
for i in $(seq 140 199); do inB ip addr add "198.51.100.$i/32" dev cap-b; done
split_route() {
  inA curl -s -o /dev/null --max-time 3 "http://198.51.100.2/index.html" || true
  for i in $(seq 10 39) $(seq 100 199); do
    inA curl -s -o /dev/null --max-time 3 "http://198.51.100.$i/index.html" || true
  done
}
CAPTURE_FILTER="not src net 198.51.100.0/24 or src host 198.51.100.2" \
  capture split-route cap-a split_route

ls -la "$OUT"/*.pcap "$OUT"/*.pcapng
