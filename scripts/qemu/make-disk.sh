#!/usr/bin/env bash
# `make qemu-disk`: the QEMU modem's disk as it leaves the factory: slot A = a firmware image,
# slot B empty, an empty data partition (the agent's state).
#   scripts/qemu/make-disk.sh OUT_DIR FIRMWARE.bin
# FIRMWARE.bin: `make firmware` output (scripts/qemu/firmware.sh), written whole (ext4 + its
# signature trailer) to p2; image_size_A = its length, so the agent reads its MD5 and, from the
# trailer, its version. Writes OUT_DIR/disk.img.
set -euo pipefail
out=$1 fw=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
"$here/disk.sh" "$out/disk.img" "$fw"
