#!/usr/bin/env bash
# Checks that every libLibTorchSharp.so the builds load will load here: either this system's
# libstdc++ provides GLIBCXX_3.4.32, or the build marked that requirement weak (README, Troubleshooting).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need=GLIBCXX_3.4.32
ldconfig="$(command -v ldconfig || echo /sbin/ldconfig)"   # /sbin is not on every user's PATH
# No early exit in these pipelines: under pipefail the writer's SIGPIPE would fail the script.
libstdcxx="$("$ldconfig" -p | awk '/libstdc\+\+\.so\.6 / && !found {print $NF; found=1}')"
if [ -n "$libstdcxx" ] && readelf -V "$libstdcxx" | grep "Name: $need\$" >/dev/null; then
  kit_say "$libstdcxx provides $need: no patch needed"
  exit 0
fi

mapfile -t files < <(kit_libtorchsharp_files)
if [ "${#files[@]}" -eq 0 ]; then
  echo "check-libtorchsharp: no libLibTorchSharp.so found; did the Release build run?" >&2
  exit 1
fi
bad=0
for f in "${files[@]}"; do
  flags="$(readelf -V "$f" | sed -n "s/.*Name: $need *Flags: \([A-Za-z]*\).*/\1/p")"
  if [ -n "$flags" ] && [ "$flags" != "WEAK" ]; then
    echo "check-libtorchsharp: $f still requires $need (Flags: $flags); rebuild with 'dotnet build -c Release'" >&2
    bad=1
  fi
done
[ "$bad" -eq 0 ] && kit_say "libLibTorchSharp.so: $need marked weak in ${#files[@]} file(s)"
exit "$bad"
