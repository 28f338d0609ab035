#!/usr/bin/env bash
# Builds transfer/ (ignored by git): everything the GPU run (scripts/gpu-check.sh) needs beyond the working tree,
# for a machine with CUDA, PyTorch at python3, CMake, ninja and a C++ compiler but no .NET and no network.
# The working tree and transfer/ together must stay under 64 MiB; this script checks it.
#
#   scripts/gpu-transfer.sh VENDOR_DIR     VENDOR_DIR holds torchsharp-0.107.0-native/ and ist-daslab-gptq/ (not in this repository)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$KIT_ROOT"
[ $# -eq 1 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
vendor="$1"
limit_mib=64

# The transfer list: what goes into transfer/, and from where.
#   dotnet.tar.xz       this machine's .NET runtime: the dotnet host, host/fxr, shared/Microsoft.NETCore.App and
#                       shared/Microsoft.AspNetCore.App (the kit command line references it)
#   app.tar.xz          framework-dependent publishes of tools/GpuCheck and of the kit command line (Kit.Cli.dll)
#                       into one folder, with Kit and its data (default model, stories260K, TinyStories text), built
#                       with KitTorchBackend=python; less NuGet's libLibTorchSharp.so (the GPU machine builds its own
#                       against python3's libtorch) and less llama.cpp's libraries (runtimes/: only `kit bench
#                       --llama-cpp` loads them). ParquetSharpNative.so stays: `kit bench sweep` writes its table.
#   torchsharp-native/  TorchSharp 0.107.0's native source (MIT), VENDOR_DIR/torchsharp-0.107.0-native
#   ist-daslab-gptq/    the GPTQ reference code (Apache 2.0), VENDOR_DIR/ist-daslab-gptq
native_src="$vendor/torchsharp-0.107.0-native"
gptq_src="$vendor/ist-daslab-gptq"
[ -f "$native_src/src/Native/CMakeLists.txt" ] || { echo "gpu-transfer: $native_src is not TorchSharp's native source" >&2; exit 1; }
[ -f "$gptq_src/gptq.py" ] || { echo "gpu-transfer: $gptq_src has no gptq.py" >&2; exit 1; }
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime="$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -n 1)"
[ -d "$runtime" ] || { echo "gpu-transfer: no .NET 10 runtime under $dotnet_root/shared/Microsoft.NETCore.App" >&2; exit 1; }
# The kit command line also needs ASP.NET Core's shared framework (kit serve), of the same version.
aspnet="$dotnet_root/shared/Microsoft.AspNetCore.App/$(basename "$runtime")"
[ -d "$aspnet" ] || { echo "gpu-transfer: no ASP.NET Core runtime $(basename "$runtime") under $dotnet_root/shared/Microsoft.AspNetCore.App" >&2; exit 1; }

rm -rf transfer
mkdir -p transfer
for project in tools/GpuCheck/GpuCheck.csproj src/Kit.Cli/Kit.Cli.csproj; do
  kit_say "dotnet publish $project (KitTorchBackend=python) -> transfer/app"
  # shellcheck disable=SC2086
  dotnet publish "$project" -c Release -r linux-x64 --self-contained false -p:KitTorchBackend=python \
    -o transfer/app --nologo -v:q ${KIT_BUILD_ARGS:-}
done
# The publishes restored the python backend's packages into obj/; restore the backend this tree builds with.
dotnet restore Kit.sln --nologo -v:q
rm -rf transfer/app/runtimes
find transfer/app \( -name libLibTorchSharp.so -o -name '*.pdb' -o -name '*.xml' \) -delete
tar -C transfer -cf - app | xz -T2 -6 >transfer/app.tar.xz
rm -rf transfer/app

kit_say "the .NET runtime $(basename "$runtime") -> transfer/dotnet.tar.xz"
tar -C "$dotnet_root" -cf - dotnet host "shared/Microsoft.NETCore.App/$(basename "$runtime")" \
  "shared/Microsoft.AspNetCore.App/$(basename "$runtime")" LICENSE.txt ThirdPartyNotices.txt |
  xz -T2 -6 >transfer/dotnet.tar.xz

mkdir -p transfer/torchsharp-native transfer/ist-daslab-gptq
cp -r "$native_src/src" "$native_src"/README.md "$native_src"/LICENSE.txt "$native_src"/THIRD-PARTY-NOTICES.TXT transfer/torchsharp-native/
cp "$gptq_src"/* transfer/ist-daslab-gptq/
chmod -R u+w transfer

# Size: the tracked working tree plus transfer/ (what the run tool carries).
tree_bytes=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
transfer_bytes=$(du -sb transfer | cut -f1)
total=$((tree_bytes + transfer_bytes))
printf '%-22s %8.1f MiB\n' "working tree (tracked)" "$(echo "$tree_bytes/1048576" | bc -l)" \
  "transfer/" "$(echo "$transfer_bytes/1048576" | bc -l)" "total" "$(echo "$total/1048576" | bc -l)" | tee transfer/SIZES
du -sh transfer/* | tee -a transfer/SIZES
if [ "$total" -ge $((limit_mib * 1048576)) ]; then
  echo "gpu-transfer: $total bytes is over the $limit_mib MiB the GPU run can carry" >&2
  exit 1
fi
kit_say "transfer/ ready; on the GPU machine: scripts/gpu-check.sh (carry: transfer)"
