#!/usr/bin/env bash
# The QEMU modem's disk (MBR; no loop mounts, no root needed):
#   p1  FAT16 "BOOT", 32 MiB: boot.scr, uboot.env, uboot-redund.env
#   p2  slot A (raw slot image, e.g. ext4 from slot-image.sh)
#   p3  slot B (empty unless given)
#   p4  data, ext4 "data", DATA_MB (default 32) MiB: the agent's state (/var/lib/cpe-agent);
#       DATA_DIR (optional): its initial content (mkfs.ext4 -d), e.g. a site config
#   scripts/qemu/disk.sh OUT.img SLOT_A_IMAGE [SLOT_B_IMAGE|-] [name=value …]
# SLOT_MB (default 128) sizes each slot partition; name=value pairs go into the initial
# environment (default: boot_slot=A upgrade_available=0 bootcount=0 bootlimit=3
# bootable_A=1 bootable_B=0 image_size_A=<size of slot A's image>).
set -euo pipefail
out=$1 a=$2 b=${3:--}; shift 2; [ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
slot_mb=${SLOT_MB:-128}
fat_mb=32
data_mb=${DATA_MB:-32}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for img in "$a" "$b"; do
  [ "$img" = - ] && continue
  [ $(( $(stat -c %s "$img") )) -le $(( slot_mb * 1024 * 1024 )) ] || { echo "disk.sh: $img does not fit a ${slot_mb} MiB slot" >&2; exit 1; }
done
mkimage -A arm64 -O linux -T script -C none -n cpe-boot -d "$here/boot.cmd" "$tmp/boot.scr" >/dev/null
vars=(boot_slot=A upgrade_available=0 bootcount=0 bootlimit=3 bootable_A=1 bootable_B=0 "image_size_A=$(stat -c %s "$a")")
if [ "$b" != - ]; then vars+=(bootable_B=1 "image_size_B=$(stat -c %s "$b")"); fi
vars+=("$@")
declare -A last=(); order=()
for kv in "${vars[@]}"; do k=${kv%%=*}; [ -z "${last[$k]+x}" ] && order+=("$k"); last[$k]=${kv#*=}; done
final=(); for k in "${order[@]}"; do final+=("$k=${last[$k]}"); done
node "$here/env.ts" write "$tmp" "${final[@]}"
mkfs.vfat -C -n BOOT -F 16 "$tmp/fat.img" $(( fat_mb * 1024 )) >/dev/null
mcopy -i "$tmp/fat.img" "$tmp/boot.scr" "$tmp/uboot.env" "$tmp/uboot-redund.env" ::
data_args=(); [ -n "${DATA_DIR:-}" ] && data_args=(-d "$DATA_DIR")
mkfs.ext4 -q -F -L data -E root_owner=0:0 "${data_args[@]}" "$tmp/data.img" "${data_mb}M"
rm -f "$out"
truncate -s $(( (1 + fat_mb + 2 * slot_mb + data_mb) * 1024 * 1024 )) "$out"
sfdisk -q "$out" <<PART
label: dos
start=1MiB, size=${fat_mb}MiB, type=e, bootable
start=$(( 1 + fat_mb ))MiB, size=${slot_mb}MiB, type=83
start=$(( 1 + fat_mb + slot_mb ))MiB, size=${slot_mb}MiB, type=83
start=$(( 1 + fat_mb + 2 * slot_mb ))MiB, size=${data_mb}MiB, type=83
PART
dd if="$tmp/fat.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$a" of="$out" bs=1M seek=$(( 1 + fat_mb )) conv=notrunc,sparse status=none
[ "$b" != - ] && dd if="$b" of="$out" bs=1M seek=$(( 1 + fat_mb + slot_mb )) conv=notrunc,sparse status=none
dd if="$tmp/data.img" of="$out" bs=1M seek=$(( 1 + fat_mb + 2 * slot_mb )) conv=notrunc,sparse status=none
echo "disk.sh: $out (FAT ${fat_mb} MiB, slots ${slot_mb} MiB, data ${data_mb} MiB): ${final[*]}"
