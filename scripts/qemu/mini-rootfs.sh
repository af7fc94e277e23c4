#!/usr/bin/env bash
# A minimal busybox-only initramfs, only to prove boot, slot selection and fallback until
# the real rootfs (`make rootfs ARCH=arm64`) lands. Not the product's rootfs.
#   scripts/qemu/mini-rootfs.sh OUT.cpio.gz KERNEL_DIR VERSION ROLE
# (KERNEL_DIR is unused: slot-image.sh appends the kernel's modules to every initramfs.)
# ROLE: good  → prints its slot and version, powers off (QEMU exits)
#       bad   → prints, then reboots at once (an image that never gets healthy)
#       shell → a shell on the console
#       net   → loads virtio_net, busybox udhcpc on eth0 (option 60 = $VENDOR_CLASS, default
#               FS-0900E, asks for option 43), prints "MINI: LEASE ip=… opt43=…", powers off
set -euo pipefail
out=$1 kdir=$2 version=$3 role=$4
here=$(cd "$(dirname "$0")" && pwd)
bb=$("$here/busybox-arm64.sh")
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,etc,mnt,tmp}
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
echo "$version" > "$root/etc/version"
echo "$role" > "$root/etc/role"
echo "${VENDOR_CLASS:-FS-0900E}" > "$root/etc/vendor-class"
mkdir -p "$root/usr/share/udhcpc"
cat > "$root/usr/share/udhcpc/default.script" <<'SCRIPT'
#!/bin/sh
case $1 in
  bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface"; echo "MINI: LEASE ip=$ip router=$router serverid=$serverid lease=$lease opt43=$opt43" ;;
esac
SCRIPT
chmod +x "$root/usr/share/udhcpc/default.script"
cat > "$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_pci virtio_blk vfat nls_cp437 nls_ascii; do modprobe "$m"; done
slot=$(sed -n 's/.*boot_slot=\([AB]\).*/\1/p' /proc/cmdline)
echo "MINI: slot=$slot version=$(cat /etc/version) role=$(cat /etc/role) uptime=$(cut -d' ' -f1 /proc/uptime) disks=$(ls /sys/block | tr '\n' ' ')"
# the boot partition, where the agent's board backend finds the U-Boot environment
mkdir -p /boot
if mount -t vfat -o ro /dev/vda1 /boot; then echo "MINI: /boot: $(ls /boot | tr '\n' ' ')"; umount /boot; fi
case $(cat /etc/role) in
  bad) echo "MINI: never healthy, rebooting"; echo b > /proc/sysrq-trigger ;;
  good) echo "MINI: healthy, power off"; sync; poweroff -f ;;
  net)
    modprobe virtio_net; ip link set eth0 up
    echo "MINI: udhcpc on eth0 (mac $(cat /sys/class/net/eth0/address))"
    if udhcpc -i eth0 -f -q -n -t 10 -T 2 -V "$(cat /etc/vendor-class)" -O 43 -s /usr/share/udhcpc/default.script; then echo "MINI: udhcpc done"; else echo "MINI: udhcpc failed"; fi
    sync; poweroff -f ;;
esac
exec sh
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
