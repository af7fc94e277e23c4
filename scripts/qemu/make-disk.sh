#!/usr/bin/env bash
# `make qemu-disk`: the QEMU modem's disk with version 1 in slot A and slot B empty.
#   scripts/qemu/make-disk.sh OUT_DIR [ROOTFS]
# ROOTFS: an initramfs (cpio, .gz or .xz) for the slot, e.g. the bundle's
# dist/rootfs-arm64.cpio.xz; without it, the busybox mini rootfs (mini-rootfs.sh, role good).
# Writes OUT_DIR/kernel/ (cached), OUT_DIR/slot-v1.ext4 (the firmware image of one slot),
# OUT_DIR/disk.img.
set -euo pipefail
out=$1 rootfs=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
"$here/kernel.sh" "$out/kernel"
if [ -z "$rootfs" ]; then
  rootfs=$out/mini-v1.cpio.gz
  "$here/mini-rootfs.sh" "$rootfs" "$out/kernel" 1 good
fi
"$here/slot-image.sh" "$out/slot-v1.ext4" "$out/kernel" "$rootfs" 1
"$here/disk.sh" "$out/disk.img" "$out/slot-v1.ext4"
