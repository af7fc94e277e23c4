#!/usr/bin/env bash
# `make firmware VERSION=X.Y.Z`: the QEMU modem's firmware image — the complete content of one
# slot, signed — as option 43 announces it:
#   dist/firmware/FS-0900E_FW_<X>_<Y>_<Z>.bin  = slot ext4 ‖ signature trailer (CPEFWSIG)
#   dist/firmware/FS-0900E_FW_<X>_<Y>_<Z>.bin.md5  (`md5  name`: option 43 sub-option 6)
#   scripts/qemu/firmware.sh VERSION [OUT_DIR]
# The slot ext4 (scripts/qemu/slot-image.sh): /boot/Image (Debian's arm64 kernel, gzip),
# /boot/initrd.img = the board rootfs (make rootfs BOARD=platform/boards/qemu-arm64: busybox
# init, the agent's single executable, the board config with policy.signature "require" and the
# trusted key .lab/keys/vendor.pub) ‖ a version layer (cpio.gz: /etc/cpe-agent/version) ‖ the
# kernel's modules (cpio.gz), and /version. The kernel unpacks the concatenated archives into one
# root, later files winning: the board rootfs is built once per input change
# (.lab/qemu/rootfs-board.*) and every version only adds its small layer. The board rootfs is
# gzip (-9), not xz: 41 MiB instead of 27, but built in 15 s instead of 65 s (minutes on a busy
# machine: CI builds it from scratch) and unpacked faster by the guest's kernel under TCG.
# Signed with `cpe-agent image sign` (.lab/keys/vendor.key, model FS-0900E, --fw-version VERSION).
# Needs dist/sea/arm64/cpe-agent (make bundle ARCH=arm64). stdout: exactly one line, the path of
# the .bin (progress goes to stderr).
set -euo pipefail
version=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${2:-$root/dist/firmware}
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || { echo "firmware.sh: VERSION must be X.Y.Z, got '$version'" >&2; exit 2; }
name="FS-0900E_FW_${BASH_REMATCH[1]}_${BASH_REMATCH[2]}_${BASH_REMATCH[3]}"
work=${QEMU_WORK:-$root/.lab/qemu}
board=$root/platform/boards/qemu-arm64
key=$root/.lab/keys/vendor
sea=$root/dist/sea/arm64/cpe-agent
[ -x "$sea" ] || { echo "firmware.sh: $sea missing: make bundle ARCH=arm64" >&2; exit 1; }
mkdir -p "$work" "$out"
"$here/kernel.sh" "$work/kernel" >&2
# the signing key pair (rootfs.ts makes it too when missing; made here first so both agree)
if [ ! -f "$key.key" ]; then mkdir -p "$(dirname "$key")"; node "$root/agent/main.ts" image keygen --out "$key" >&2; fi

# the board rootfs, cached by the hash of everything it is made of (this script included: it
# holds the rootfs.ts options)
inputs=$( { sha256sum "$sea" "$here/firmware.sh" "$root/scripts/rootfs.ts" "$root/scripts/rootfs-cpio.ts" "$key.pub"; find "$root/platform/rootfs" "$board" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; find "$root/platform/rootfs" "$board" -type f -perm -u+x | LC_ALL=C sort; } | sha256sum | cut -d' ' -f1)
base=$work/rootfs-board.cpio.gz
if [ "$(cat "$work/rootfs-board.key" 2>/dev/null)" != "$inputs" ] || [ ! -s "$base" ]; then
  echo "firmware.sh: building the board rootfs (make rootfs BOARD=platform/boards/qemu-arm64)" >&2
  node "$root/scripts/rootfs.ts" --arch arm64 --board "$board" --trusted-key "$key.pub" --compress gzip --out "$base" >&2
  echo "$inputs" > "$work/rootfs-board.key"
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/layer/etc/cpe-agent"
printf '%s\narch=arm64\nboard=qemu-arm64\nimage=%s\n' "$version" "$name" > "$tmp/layer/etc/cpe-agent/version"
cat "$base" > "$tmp/initrd.img"
(cd "$tmp/layer" && find etc | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9 -n) >> "$tmp/initrd.img"
"$here/slot-image.sh" "$tmp/slot.ext4" "$work/kernel" "$tmp/initrd.img" "$version" >&2
node "$root/agent/main.ts" image sign "$tmp/slot.ext4" --key "$key.key" --fw-version "$version" --model FS-0900E --out "$tmp/$name.bin" >&2
md5=$(md5sum "$tmp/$name.bin" | cut -d' ' -f1)
mv "$tmp/$name.bin" "$out/$name.bin"
echo "$md5  $name.bin" > "$out/$name.bin.md5"
echo "firmware.sh: $out/$name.bin $(stat -c %s "$out/$name.bin") bytes, md5 $md5" >&2
echo "$out/$name.bin"
