#!/usr/bin/env bash
# The busybox initramfs of the QEMU power-cut scenario "mini" (scripts/qemu/powercut-qemu.ts):
# a stand-in for the agent that performs the same storage steps with busybox alone.
#   scripts/qemu/powercut-rootfs.sh OUT.cpio.gz VERSION
# At boot: loads virtio/vfat, mounts the boot partition (vda1) read-write at /boot, prints
#   CUT: ready slot=<slot from /proc/cmdline> version=<VERSION>
# and reads one line from the console:
#   upgrade → sh /boot/cut/upgrade.sh   (download, mark B not bootable, dd + fsync, read-back
#                                         MD5, record size, switch to B; then reboot -f)
#   commit  → sh /boot/cut/commit.sh    (the trial slot marks itself good)
#   off     → power off
# The host writes those scripts and the environment blocks they dd into place (precomputed with
# the agent's codec, platform/uboot/env-format.ts) onto the FAT partition: the guest needs no CRC tool.
set -euo pipefail
out=$1 version=$2
here=$(cd "$(dirname "$0")" && pwd)
bb=$("$here/busybox-arm64.sh")
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,etc,boot,tmp}
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
echo "$version" > "$root/etc/version"
cat > "$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for m in virtio_pci virtio_blk virtio_net vfat nls_cp437 nls_ascii nls_iso8859-1; do modprobe "$m" 2>/dev/null; done
slot=$(sed -n 's/.*boot_slot=\([AB]\).*/\1/p' /proc/cmdline)
n=0; while [ ! -b /dev/vda1 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
mount -t vfat -o rw,flush /dev/vda1 /boot || echo "CUT: cannot mount /boot"
echo "CUT: ready slot=$slot version=$(cat /etc/version)"
read -r cmd
case $cmd in
  upgrade) sh /boot/cut/upgrade.sh ;;
  commit) sh /boot/cut/commit.sh ;;
esac
sync; umount /boot 2>/dev/null
echo "CUT: power off"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
