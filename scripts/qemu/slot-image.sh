#!/usr/bin/env bash
# One slot's content as an ext4 image (what U-Boot's ext4load reads; no loop mount):
#   /boot/Image        the arm64 kernel, gzip-compressed (U-Boot's booti inflates it to
#                      kernel_comp_addr_r, boot.cmd: 12 MiB instead of 32 MiB to download)
#   /boot/initrd.img   the root filesystem as an initramfs (cpio, gz or xz), followed by a
#                      cpio.gz of the kernel's modules (/lib/modules/VER: virtio, ext4, vfat…)
#                      — the kernel unpacks concatenated archives into one root, so any
#                      rootfs (e.g. dist/rootfs-arm64.cpio.xz) gets the modules of this kernel
#   /version           the firmware version
#   scripts/qemu/slot-image.sh OUT.ext4 KERNEL_DIR INITRD VERSION
set -euo pipefail
out=$1 kdir=$2 initrd=$3 version=$4
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot"
gzip -9 -n -c "$kdir/Image" > "$root/boot/Image"
cp "$initrd" "$root/boot/initrd.img"
(cd "$kdir/modules" && find lib | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >> "$root/boot/initrd.img"
echo "$version" > "$root/version"
kib=$(( $(du -sk "$root" | cut -f1) * 11 / 10 + 2048 ))
rm -f "$out"
mkfs.ext4 -q -F -L "slot-$version" -O ^has_journal -E root_owner=0:0 -d "$root" "$out" "${kib}k"
