#!/usr/bin/env bash
# scripts/debs.sh ARCH DEST PKG...: Debian packages for ARCH (x64|arm64) unpacked into DEST
# with `dpkg-deb -x`; nothing is installed and the host's apt configuration is not touched.
# A private apt state per architecture (.lab/apt/<debian-arch>: the host's Debian sources,
# APT::Architecture=<arch>) resolves and downloads the .debs into its own cache, so the same
# packages come for a foreign architecture as for the host's. Prints the .debs it used.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: $0 x64|arm64 DEST PKG..." >&2; exit 2; }
case "$1" in x64) darch=amd64 ;; arm64) darch=arm64 ;; *) echo "debs: unknown arch $1" >&2; exit 2 ;; esac
dest=$2; shift 2
root=$PWD/.lab/apt/$darch
mkdir -p "$root"/{lists/partial,archives/partial,etc/sources.list.d,etc/preferences.d,debs}
# only the Debian archive's own sources (not third-party lists the host may carry)
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  [ -s "$f" ] && grep -q debian "$f" && cp "$f" "$root/etc/sources.list.d/$(basename "$f" | sed 's/^sources.list$/debian.list/')"
done
APT=(-o "APT::Architecture=$darch" -o "APT::Architectures::=$darch"
  -o "Dir::State=$root" -o "Dir::State::Lists=$root/lists" -o "Dir::State::status=/dev/null"
  -o "Dir::Cache=$root" -o "Dir::Cache::archives=$root/archives"
  -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$root/etc/sources.list.d"
  -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$root/etc/preferences.d"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -q)
# refresh the lists once a day (a build twice in a row uses the same package versions)
if [ -z "$(find "$root/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  apt-get "${APT[@]}" update >/dev/null
fi
mkdir -p "$dest"
for p in "$@"; do
  ver=$(apt-cache "${APT[@]}" policy "$p" | awk '/Candidate:/ {print $2}')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "debs: no $p for $darch" >&2; exit 1; }
  deb=$(ls "$root/debs/${p}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    (cd "$root/debs" && apt-get "${APT[@]}" download "$p=$ver" >/dev/null)
    deb=$(ls "$root/debs/${p}_${ver//:/%3a}_"*.deb | head -1)
  fi
  dpkg-deb -x "$deb" "$dest"
  echo "$(basename "$deb")"
done
