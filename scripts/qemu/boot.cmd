# cpe-agent A/B boot script for U-Boot (boot.scr: mkimage -A arm64 -T script -C none).
# U-Boot's distro_bootcmd runs it from partition 1 (FAT) of the disk. See docs/boards.md.
#
# Environment: two copies, uboot.env and uboot-redund.env on partition 1, in libubootenv's
# redundant format (crc32 LE | flags | data, 16 KiB); the valid copy with the newer flags
# counter is current (0 beats 255). A write goes to the other copy with flags + 1, so a
# power cut while writing leaves the current one intact. Both bad: boot A, no trial.
# Variables (platform/uboot/boot-env.ts writes the same ones from Linux):
#   boot_slot upgrade_available bootcount bootlimit bootable_A bootable_B
#   image_size_A image_size_B fallback_from
# Bootcount as U-Boot's env-based bootcount does it: with upgrade_available=1 every boot
# increments bootcount; past bootlimit, boot the other slot, upgrade_available=0,
# fallback_from=<failed slot>. A trial slot that cannot be loaded falls back at once.
# Numbers are hex to U-Boot's setexpr/itest: bootlimit stays 1..8 (hex = decimal).
# Slots: A = partition 2, B = partition 3, ext4 with /boot/Image and /boot/initrd.img.

if test -z "${devtype}"; then setenv devtype virtio; setenv devnum 0; fi
setenv cpe_size 4000
setenv cpe_dsize 3ffb
# a gzip-compressed /boot/Image is loaded at kernel_addr_r and inflated by booti to
# kernel_comp_addr_r (kernel_comp_size = the loaded file's size; unused for a plain Image):
# 0x48000000, above the initramfs at ramdisk_addr_r (0x44000000, < 64 MiB) and below the env scratch
setenv kernel_comp_addr_r 0x48000000
# memory: copy 1 at 0x4f000000, copy 2 at 0x4f010000, the copy written at 0x4f020000,
# CRC scratch at 0x4f030000 (between the initramfs and U-Boot's relocated self)
setenv cpe_vars boot_slot upgrade_available bootcount bootlimit bootable_A bootable_B image_size_A image_size_B fallback_from

setenv boot_slot A
setenv upgrade_available 0
setenv bootcount 0
setenv bootlimit 3
setenv bootable_A
setenv bootable_B
setenv image_size_A
setenv image_size_B
setenv fallback_from
setenv cpe_valid1 0
setenv cpe_valid2 0
setenv cpe_flags1 0
setenv cpe_flags2 0

# ---- read both copies, check their CRC ----
# U-Boot's crc32 stores its result big-endian; the env stores it little-endian: the stored
# bytes are reversed into scratch (0x4f030010) and compared with the computed ones (0x4f030000).
if load ${devtype} ${devnum}:1 0x4f000000 uboot.env && itest ${filesize} == ${cpe_size}; then
  crc32 0x4f000005 ${cpe_dsize} 0x4f030000
  cp.b 0x4f000003 0x4f030010 1; cp.b 0x4f000002 0x4f030011 1; cp.b 0x4f000001 0x4f030012 1; cp.b 0x4f000000 0x4f030013 1
  if cmp.b 0x4f030000 0x4f030010 4; then
    setenv cpe_valid1 1
    setexpr.b cpe_flags1 *0x4f000004
  fi
fi
if load ${devtype} ${devnum}:1 0x4f010000 uboot-redund.env && itest ${filesize} == ${cpe_size}; then
  crc32 0x4f010005 ${cpe_dsize} 0x4f030000
  cp.b 0x4f010003 0x4f030010 1; cp.b 0x4f010002 0x4f030011 1; cp.b 0x4f010001 0x4f030012 1; cp.b 0x4f010000 0x4f030013 1
  if cmp.b 0x4f030000 0x4f030010 4; then
    setenv cpe_valid2 1
    setexpr.b cpe_flags2 *0x4f010004
  fi
fi
setenv cpe_use 0
if test ${cpe_valid1} = 1; then setenv cpe_use 1; fi
if test ${cpe_valid2} = 1; then
  if test ${cpe_valid1} = 0; then setenv cpe_use 2; fi
  if test ${cpe_valid1} = 1 && itest 0x${cpe_flags2} -gt 0x${cpe_flags1}; then setenv cpe_use 2; fi
  if test ${cpe_valid1} = 1 && itest 0x${cpe_flags1} == 0xff && itest 0x${cpe_flags2} == 0; then setenv cpe_use 2; fi
  if test ${cpe_valid1} = 1 && itest 0x${cpe_flags2} == 0xff && itest 0x${cpe_flags1} == 0; then setenv cpe_use 1; fi
fi
setenv cpe_flags 0
if test ${cpe_use} = 1; then setenv cpe_a 0x4f000005; setenv cpe_flags ${cpe_flags1}; fi
if test ${cpe_use} = 2; then setenv cpe_a 0x4f010005; setenv cpe_flags ${cpe_flags2}; fi
if test ${cpe_use} = 0; then
  echo "cpe: no valid U-Boot environment copy: defaults (slot A, no trial)"
else
  env import -b ${cpe_a} ${cpe_dsize} ${cpe_vars}
  echo "cpe: environment copy ${cpe_use} (flags ${cpe_flags})"
fi
if test "${boot_slot}" != A && test "${boot_slot}" != B; then setenv boot_slot A; setenv upgrade_available 0; fi
if test -z "${bootcount}"; then setenv bootcount 0; fi
if test -z "${bootlimit}"; then setenv bootlimit 3; fi

# ---- bootcount ----
setenv cpe_dirty 0
if test "${upgrade_available}" = 1; then
  setexpr bootcount ${bootcount} + 1
  setenv cpe_dirty 1
  echo "cpe: slot ${boot_slot} on trial, boot ${bootcount} of ${bootlimit}"
  if itest ${bootcount} -gt ${bootlimit}; then
    echo "cpe: slot ${boot_slot} never became healthy: falling back"
    setenv fallback_from ${boot_slot}
    if test ${boot_slot} = A; then setenv boot_slot B; else setenv boot_slot A; fi
    setenv upgrade_available 0
    setenv bootcount 0
  fi
fi

# ---- load the kernel and the initramfs of the chosen slot, else of the other ----
if test ${boot_slot} = A; then setenv cpe_other B; else setenv cpe_other A; fi
setenv cpe_loaded
for cpe_s in ${boot_slot} ${cpe_other}; do
  if test -z "${cpe_loaded}"; then
    setenv cpe_ok 1
    if test ${cpe_s} = A; then setenv cpe_part 2; if test "${bootable_A}" = 0; then setenv cpe_ok 0; fi; fi
    if test ${cpe_s} = B; then setenv cpe_part 3; if test "${bootable_B}" = 0; then setenv cpe_ok 0; fi; fi
    if test ${cpe_ok} = 0; then
      echo "cpe: slot ${cpe_s} is marked not bootable"
    elif ext4load ${devtype} ${devnum}:${cpe_part} ${kernel_addr_r} /boot/Image && setenv kernel_comp_size ${filesize} && ext4load ${devtype} ${devnum}:${cpe_part} ${ramdisk_addr_r} /boot/initrd.img; then
      setenv cpe_loaded ${cpe_s}
      setenv cpe_rdsize ${filesize}
    else
      echo "cpe: slot ${cpe_s} holds no bootable kernel"
    fi
  fi
done
if test -n "${cpe_loaded}" && test ${cpe_loaded} != ${boot_slot}; then
  if test "${upgrade_available}" = 1; then
    setenv fallback_from ${boot_slot}
    setenv boot_slot ${cpe_loaded}
    setenv upgrade_available 0
    setenv bootcount 0
    setenv cpe_dirty 1
  fi
fi

# ---- write the other copy (flags + 1) when something changed ----
if test ${cpe_dirty} = 1; then
  if test ${cpe_use} = 1; then setenv cpe_tgt uboot-redund.env; else setenv cpe_tgt uboot.env; fi
  setexpr cpe_flags 0x${cpe_flags} + 1
  if itest 0x${cpe_flags} -gt 0xff; then setenv cpe_flags 0; fi
  mw.b 0x4f020000 0 ${cpe_size}
  env export -b -s ${cpe_dsize} 0x4f020005 ${cpe_vars}
  crc32 0x4f020005 ${cpe_dsize} 0x4f030000
  cp.b 0x4f030003 0x4f020000 1; cp.b 0x4f030002 0x4f020001 1; cp.b 0x4f030001 0x4f020002 1; cp.b 0x4f030000 0x4f020003 1
  mw.b 0x4f020004 0x${cpe_flags}
  if fatwrite ${devtype} ${devnum}:1 0x4f020000 ${cpe_tgt} ${cpe_size}; then
    echo "cpe: environment written to ${cpe_tgt} (flags ${cpe_flags})"
  else
    echo "cpe: cannot write ${cpe_tgt}"
  fi
fi

if test -z "${cpe_loaded}"; then
  echo "cpe: no slot can be booted"
else
  echo "cpe: booting slot ${cpe_loaded}"
  setenv bootargs "console=ttyAMA0 quiet boot_slot=${cpe_loaded} ${cpe_bootargs}"
  booti ${kernel_addr_r} ${ramdisk_addr_r}:${cpe_rdsize} ${fdtcontroladdr}
fi
