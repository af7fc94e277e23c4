#!/usr/bin/env bash
# Prints the path of Debian's static arm64 busybox for the QEMU stand-in rootfs images
# (mini-rootfs.sh, powercut-rootfs.sh), fetched once with apt-arm64.sh and cached in the QEMU
# work dir ($QEMU_WORK, default .lab/qemu).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${QEMU_WORK:-$(cd "$here/../.." && pwd)/.lab/qemu}
bb=$work/busybox-arm64
if [ ! -x "$bb" ]; then
  tmp=$(mktemp -d)
  "$here/apt-arm64.sh" "$tmp" busybox-static >/dev/null
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
  mkdir -p "$work" && cp "$tmp/x/bin/busybox" "$bb"
  rm -rf "$tmp"
fi
echo "$bb"
