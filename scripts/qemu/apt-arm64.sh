#!/usr/bin/env bash
# Downloads arm64 Debian packages without touching the host's dpkg: a private apt state
# (lists, cache) for arm64 under $QEMU_WORK/apt, the host's Debian sources.
#   scripts/qemu/apt-arm64.sh DEST_DIR PACKAGE...   → DEST_DIR/<package>_<ver>_arm64.deb
set -euo pipefail
dest=$1; shift
work=${QEMU_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/.lab/qemu}
a=$work/apt
mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" "$a/sources" "$dest"
touch "$a/state/status"
cp /etc/apt/sources.list.d/debian.sources "$a/sources/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$a/sources/debian.list" || true
cat > "$a/apt.conf" <<CONF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Dir::State "$a/state";
Dir::State::status "$a/state/status";
Dir::Cache "$a/cache";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$a/sources";
Acquire::Languages "none";
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$a/apt.conf
if [ -z "$(ls "$a/state/lists" 2>/dev/null | grep -v partial)" ] || [ -n "$(find "$a/state/lists" -maxdepth 0 -mmin +1440)" ]; then
  apt-get update -qq
fi
# resolve virtual/meta names one level (linux-image-arm64 → linux-image-6.1.0-N-arm64)
pkgs=()
for p in "$@"; do
  if [[ $p == linux-image-arm64 ]]; then
    p=$(apt-cache depends linux-image-arm64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  fi
  pkgs+=("$p")
done
# a stale list may name a version the mirror dropped: refresh once and retry
(cd "$dest" && apt-get download -qq "${pkgs[@]}") || { apt-get update -qq && (cd "$dest" && apt-get download -qq "${pkgs[@]}"); }
printf '%s\n' "${pkgs[@]}"
