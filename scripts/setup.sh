#!/usr/bin/env bash
# Installs what tests, the demo and benchmarks need: Debian packages for the lab daemons
# (when run as root) and the npm dependencies (npm ci). Idempotent; quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# tool -> Debian package
declare -A PKG=(
  [dhcpd]=isc-dhcp-server [dhcrelay]=isc-dhcp-relay [busybox]=busybox [ip]=iproute2
  [tshark]=tshark [tcpdump]=tcpdump [in.tftpd]=tftpd-hpa [vsftpd]=vsftpd
  [snmpget]=snmp [curl]=curl [editcap]=wireshark-common [sysctl]=procps
  [ss]=iproute2 [useradd]=passwd [mount]=mount
)
have() { for d in /usr/sbin /usr/bin /sbin /bin; do [ -x "$d/$1" ] && return 0; done; return 1; }
missing=()
for t in "${!PKG[@]}"; do have "$t" || missing+=("${PKG[$t]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Never start the packaged daemons: the lab runs its own copies inside namespaces.
    own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
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
