#!/usr/bin/env bash
# Boots the QEMU modem: arm64 virt, Cortex-A53, 512 MiB, TCG, Debian's U-Boot as firmware,
# serial console to a file. Ends when the guest powers off, or after TIMEOUT seconds.
#   scripts/qemu/run.sh DISK CONSOLE_LOG [TIMEOUT=120] [extra qemu args…]
# Without a NIC QEMU would stop on the missing efi-virtio.rom: -nic none unless a -netdev
# is passed in the extra args. A guest reboot resets the machine (U-Boot runs again).
set -euo pipefail
disk=$1 log=$2 timeout=${3:-120}; shift 2; [ $# -gt 0 ] && shift
nic=(-nic none)
for x in "$@"; do [[ $x == -netdev || $x == -nic ]] && nic=(); done
exec timeout --foreground -k 5 "$timeout" qemu-system-aarch64 -M virt -cpu cortex-a53 -m 512 -nographic \
  -bios /usr/lib/u-boot/qemu_arm64/u-boot.bin \
  -drive if=virtio,format=raw,file="$disk" "${nic[@]}" \
  -serial file:"$log" -monitor none -display none "$@"
