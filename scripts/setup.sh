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
  [ss]=iproute2 [useradd]=passwd [mount]=mount [unshare]=util-linux
  [snmpd]=snmpd [snmptrapd]=snmptrapd [smilint]=smitools [snmptranslate]=snmp
  [qemu-system-aarch64]=qemu-system-arm [mkimage]=u-boot-tools [mcopy]=mtools
  [mkfs.vfat]=dosfstools [sfdisk]=fdisk [mkfs.ext4]=e2fsprogs [cpio]=cpio [depmod]=kmod
  [fw_printenv]=libubootenv-tool [dpkg-deb]=dpkg [timeout]=coreutils
  [mksquashfs]=squashfs-tools [unsquashfs]=squashfs-tools [xz]=xz-utils
  [qemu-aarch64-static]=qemu-user-static [llvm-strip]=llvm [chroot]=coreutils
)
have() { for d in /usr/sbin /usr/bin /sbin /bin; do [ -x "$d/$1" ] && return 0; done; return 1; }
missing=()
for t in "${!PKG[@]}"; do have "$t" || missing+=("${PKG[$t]}"); done
# data files (not tools): the QEMU modem's firmware
[ -f /usr/lib/u-boot/qemu_arm64/u-boot.bin ] || missing+=(u-boot-qemu)
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

# atftpd 0.8 is the lab's real RFC 7440 (windowsize) server. Its package conflicts with
# tftpd-hpa (both ship /usr/sbin/in.tftpd), so it is unpacked into .lab/atftpd, not installed;
# only its libraries are installed. Nothing of it runs outside the lab's namespaces.
ATFTPD=.lab/atftpd/usr/sbin/atftpd
atftpd_ok() { [ -x "$ATFTPD" ] && "$ATFTPD" --version >/dev/null 2>&1; }
if ! atftpd_ok; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: unpacking atftpd into .lab/atftpd"
    export DEBIAN_FRONTEND=noninteractive
    tmp=$(mktemp -d)
    fetch() { (cd "$tmp" && apt-get download -qq atftpd >/dev/null 2>&1); }
    fetch || { apt-get update -qq && fetch; } || { echo "setup: apt-get download atftpd failed" >&2; exit 1; }
    apt-get install -y -qq --no-install-recommends libwrap0 libpcre2-8-0 >/dev/null
    rm -rf .lab/atftpd && mkdir -p .lab/atftpd
    dpkg-deb -x "$tmp"/atftpd_*.deb .lab/atftpd
    rm -rf "$tmp"
    atftpd_ok || { echo "setup: .lab/atftpd does not run" >&2; exit 1; }
  elif [ -n "${CI:-}" ]; then
    echo "setup: atftpd missing and not root: cannot install under CI" >&2; exit 1
  else
    echo "setup: atftpd missing (run as root to unpack it); its lab tests will be skipped" >&2
  fi
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The other architecture's official Node binary (make bundle/rootfs ARCH=arm64 on x64 and the
# reverse): npm skips a package whose "cpu" does not match the host, so it is fetched with
# `npm pack` at the lockfile's version, checked against the lockfile's integrity and unpacked
# into node_modules (after the npm cache holds it, this works offline).
for a in x64 arm64; do
  dir=node_modules/node-linux-$a
  [ -x "$dir/bin/node" ] && continue
  read -r ver integrity < <(node -e "const p=require('./package-lock.json').packages['node_modules/node-linux-$a'];console.log(p.version,p.integrity)")
  echo "setup: fetching node-linux-$a@$ver (npm skipped it: cpu=$a)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent --prefer-offline "node-linux-$a@$ver" >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$tmp"/node-linux-$a-$ver.tgz | base64 -w0)"
  if [ "$got" != "$integrity" ]; then echo "setup: node-linux-$a integrity mismatch" >&2; rm -rf "$tmp"; exit 1; fi
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xzf "$tmp"/node-linux-$a-$ver.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
done
