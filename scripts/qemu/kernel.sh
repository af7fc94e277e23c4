#!/usr/bin/env bash
# Debian's arm64 kernel for the QEMU modem:
#   scripts/qemu/kernel.sh OUT   → OUT/Image (uncompressed arm64 Image, booti),
#                                  OUT/modules/lib/modules/VER (subset + modules.dep), OUT/release
# The package's drivers for virtio, ext4, vfat and squashfs are modules (no modules.dep in
# the package): the subset below plus its dependencies is copied and depmod runs on the host.
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
# crc32c_generic: ext4's metadata checksums ask the crypto API for crc32c (not a module
# dependency, so depmod would not pull it in; without it a mke2fs-default ext4 cannot be mounted)
WANT=(virtio_pci virtio_blk virtio_net ext4 vfat nls_cp437 nls_ascii nls_iso8859-1 squashfs crc32c_generic)
# cached: rebuilt only when the module list changed (OUT/want); progress goes to stderr so
# callers can keep their stdout strict
if [ -s "$out/Image" ] && [ -s "$out/release" ] && [ "$(cat "$out/want" 2>/dev/null)" = "${WANT[*]}" ]; then exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pkg=$("$here/apt-arm64.sh" "$tmp/debs" linux-image-arm64)
dpkg-deb -x "$tmp"/debs/"$pkg"_*.deb "$tmp/x"
rel=$(ls "$tmp/x/lib/modules")
depmod -b "$tmp/x" "$rel"
# closure of WANT over modules.dep
declare -A need=()
add() {
  local path
  path=$(awk -F: -v m="/$1.ko" 'index($1, m) && substr($1, length($1)-length(m)+1) == m {print $1; exit}' "$tmp/x/lib/modules/$rel/modules.dep")
  [ -n "$path" ] || { echo "kernel.sh: module $1 not found" >&2; exit 1; }
  [ -n "${need[$path]:-}" ] && return 0
  need[$path]=1
  local d
  for d in $(awk -F: -v p="$path" '$1 == p {print $2}' "$tmp/x/lib/modules/$rel/modules.dep"); do
    add "$(basename "$d" .ko)"
  done
}
for m in "${WANT[@]}"; do add "$m"; done
rm -rf "$out" && mkdir -p "$out/modules/lib/modules/$rel"
for p in "${!need[@]}"; do
  mkdir -p "$out/modules/lib/modules/$rel/$(dirname "$p")"
  cp "$tmp/x/lib/modules/$rel/$p" "$out/modules/lib/modules/$rel/$p"
done
cp "$tmp/x/lib/modules/$rel"/modules.{order,builtin,builtin.modinfo} "$out/modules/lib/modules/$rel/" 2>/dev/null || true
depmod -b "$out/modules" "$rel"
cp "$tmp/x/boot/vmlinuz-$rel" "$out/Image"
echo "$rel" > "$out/release"
echo "${WANT[*]}" > "$out/want"
echo >&2 "kernel.sh: $rel, $(du -sh "$out/Image" | cut -f1) Image, ${#need[@]} modules"
