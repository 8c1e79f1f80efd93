#!/usr/bin/env bash
# Installs the Debian packages cordon needs to build and test, and nothing else.
# Idempotent: checks each package with `dpkg -s` and runs `apt-get update` only when one is
# missing. As root it installs; otherwise it prints the exact command to run and exits 1.
#   libpcap0.8-dev                 build: the `pcap` crate links libpcap
#   iproute2 tcpreplay tcpdump     root-only tests (network namespaces, live capture)
set -euo pipefail

PKGS=(libpcap0.8-dev iproute2 tcpreplay tcpdump)

if ! command -v dpkg >/dev/null 2>&1; then
  echo "setup-deps: dpkg not found; this script supports Debian/Ubuntu only." >&2
  echo "setup-deps: install by hand: ${PKGS[*]} (libpcap development headers)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  # `dpkg -s` succeeds for removed-but-not-purged packages too; check the status line.
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all present (${PKGS[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-deps: missing packages: ${missing[*]}" >&2
  echo "setup-deps: run this, then try again:" >&2
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-deps: done"
