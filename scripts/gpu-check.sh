#!/usr/bin/env bash
# The GPU run of issue 12, on a machine with CUDA, PyTorch at python3, CMake, ninja and a C++ compiler, but no .NET
# and no network. Needs transfer/ (scripts/gpu-transfer.sh builds it here; the run tool carries it).
#   1. the machine: nvidia-smi, python3's torch, nvcc, cmake
#   2. the .NET runtime and the app unpacked under $TMPDIR (default /tmp); libLibTorchSharp.so built against
#      python3's libtorch (scripts/torch-from-python.sh) into the app
#   3. the checks (tools/GpuCheck on the transferred .NET runtime): load, libtorch, CUDA, device name; greedy
#      tokens, GPTQ/SparseGPT codes and perplexity against the CPU, packed models, bf16; GPTQ timing against the
#      reference on a 4096 × 4096 layer with 128 × 2048 tokens
# Everything it prints goes to $OUT/gpu-check.log, the checks' JSON to $OUT/check/summary.json, the steps' to
# $OUT/run.json. OUT defaults to artifacts/gpu-check. GPU_CHECK_SHAPE overrides the timing's R,C,S,L; the checks
# stop when the whole run reaches GPU_CHECK_BUDGET_S seconds (default 470, under the 8 minutes the issue allows).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
OUT="${OUT:-$root/artifacts/gpu-check}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
t0=$SECONDS
steps=()
record() { steps+=("{\"step\": \"$1\", \"exit\": $2, \"seconds\": $3}"); }
finish() {
  printf '{"steps": [%s], "seconds": %d}\n' "$(IFS=,; echo "${steps[*]}")" $((SECONDS - t0)) >"$OUT/run.json"
  echo "gpu-check: $1 after $((SECONDS - t0)) s; log $OUT/gpu-check.log"
  exit "$2"
}
[ -f transfer/dotnet.tar.xz ] && [ -f transfer/app.tar.xz ] || { echo "gpu-check: transfer/ is missing; run scripts/gpu-transfer.sh first and carry transfer/"; exit 1; }

echo "== 1. machine"
uname -a; nproc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "no nvidia-smi"
python3 -c 'import torch; print("python torch", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available())' || echo "python3 has no torch"
nvcc --version | tail -n 2 || echo "no nvcc"
cmake --version | head -n 1; ninja --version; c++ --version | head -n 1

echo "== 2. .NET runtime and libLibTorchSharp.so"
dotnet_dir="${TMPDIR:-/tmp}/kit-dotnet"
rm -rf "$dotnet_dir" && mkdir -p "$dotnet_dir" && tar -C "$dotnet_dir" -xJf transfer/dotnet.tar.xz
export DOTNET_ROOT="$dotnet_dir" PATH="$dotnet_dir:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
"$dotnet_dir/dotnet" --list-runtimes
app="${TMPDIR:-/tmp}/kit-gpu-app"
rm -rf "$app" && mkdir -p "$app" && tar -C "$app" -xJf transfer/app.tar.xz && app="$app/app"
s=$SECONDS
KIT_TORCH_BUILD_DIR="${TMPDIR:-/tmp}/kit-torch-build" scripts/torch-from-python.sh transfer/torchsharp-native "$app"
rc=$?; record torch-from-python $rc $((SECONDS - s))
cp "${TMPDIR:-/tmp}"/kit-torch-build/*.log "$OUT/" 2>/dev/null
[ $rc -eq 0 ] || finish "the native build failed (logs in $OUT)" 1

echo "== 3. checks"
s=$SECONDS
timeout $(( ${GPU_CHECK_BUDGET_S:-470} - (SECONDS - t0) )) "$dotnet_dir/dotnet" "$app/GpuCheck.dll" --out "$OUT/check" --device auto --require-cuda \
  --gptq-shape "${GPU_CHECK_SHAPE:-4096,4096,128,2048}" --gptq-reference transfer/ist-daslab-gptq --python python3
rc=$?; record checks $rc $((SECONDS - s))
nvidia-smi --query-gpu=name,memory.used --format=csv || true
[ $rc -eq 0 ] && finish "all checks passed" 0
finish "checks failed (exit $rc; 124 = timed out)" 1
