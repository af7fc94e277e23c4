#!/usr/bin/env bash
# Installs what tests, the demo and benchmarks need: Debian packages for the lab daemons
# (when run as root) and the npm dependencies (npm ci). Idempotent; quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# tool -> Debian package
declare -A PKG=(
  [dhcpd]=isc-dhcp-server [dhcrelay]=isc-dhcp-relay [busybox]=busybox [ip]=iproute2
  [tshark]=tshark [tcpdump]=tcpdump [in.tftpd]=tftpd-hpa [vsftpd]=vsftpd
  [snmpget]=snmp [curl]=curl [make]=make [git]=git
)
have() { for d in /usr/sbin /usr/bin /sbin /bin; do [ -x "$d/$1" ] && return 0; done; return 1; }
missing=()
for t in "${!PKG[@]}"; do have "$t" || missing+=("${PKG[$t]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Never start the packaged daemons: the lab runs its own copies inside namespaces.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
  elif [ -n "${CI:-}" ]; then
    echo "setup: missing ${missing[*]} and not root: cannot install under CI" >&2; exit 1
  else
    echo "setup: missing ${missing[*]} (run as root to install); lab tests will be skipped" >&2
  fi
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
