#!/usr/bin/env bash
# The GPU run of issue 12, on a machine with CUDA, PyTorch at python3, CMake, ninja and a C++ compiler, but no .NET
# and no network. Needs transfer/ (scripts/gpu-transfer.sh builds it here; the run tool carries it).
#   1. the machine: nvidia-smi, python3's torch, nvcc, cmake
#   2. the .NET runtime and the app unpacked under $TMPDIR (default /tmp); libLibTorchSharp.so built against
#      python3's libtorch (scripts/torch-from-python.sh) into the app
#   3. the checks (tools/GpuCheck on the transferred .NET runtime): load, libtorch, CUDA, device name; greedy
#      tokens, GPTQ/SparseGPT codes and perplexity against the CPU, packed models, bf16; GPTQ timing against the
#      reference on a 4096 × 4096 layer with 128 × 2048 tokens
#   4. a whole model: `kit create-model --shape tinyllama-1.1b --dtype bfloat16`, then `kit quantize` GPTQ W4A16 with
#      128 × 2048 calibration tokens: total time, time per layer, peak GPU memory, peak host memory
#   5. `kit bench sweep` of the bf16 and W4A16 models at batch 1 and 16: time to first token, prefill and decode tokens/s
# Everything it prints goes to $OUT/gpu-check.log; the checks' JSON to $OUT/check/summary.json, the compression report
# to $OUT/whole-model.json, the sweep to $OUT/sweep.json and $OUT/runs/, the steps' exits and times to $OUT/run.json.
# OUT defaults to artifacts/gpu-check. The whole run stops at GPU_CHECK_BUDGET_S seconds (default 470, under the 8
# minutes the issue allows); steps 3 and 4 are capped at 200 and 150 s so that a slow one leaves time for the next.
#
# Smaller runs and a dry run on a machine without a GPU (what CI cannot do, done by hand before the GPU run):
#   GPU_CHECK_SHAPE=R,C,S,L          the GPTQ timing's layer and calibration (default 4096,4096,128,2048)
#   GPU_CHECK_MODEL=SHAPE            step 4's model shape (default tinyllama-1.1b)
#   GPU_CHECK_CALIBRATION=S,L        step 4's calibration sequences and tokens (default 128,2048)
#   GPU_CHECK_BENCH=B,B:P:N          step 5's batch sizes, prompt tokens and new tokens (default 1,16:512:64)
#   GPU_CHECK_DEVICE=cpu             run on the CPU and do not require CUDA (default auto, CUDA required)
#   GPU_CHECK_NATIVE_DIR=DIR         copy DIR's libLibTorchSharp.so and libtorch libraries into the app instead of
#                                    building against python3's torch (e.g. NuGet's CPU ones, for a dry run)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
OUT="${OUT:-$root/artifacts/gpu-check}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
t0=$SECONDS
budget=${GPU_CHECK_BUDGET_S:-470}
steps=()
record() { steps+=("{\"step\": \"$1\", \"exit\": $2, \"seconds\": $3}"); }
finish() {
  printf '{"steps": [%s], "seconds": %d}\n' "$(IFS=,; echo "${steps[*]}")" $((SECONDS - t0)) >"$OUT/run.json"
  echo "gpu-check: $1 after $((SECONDS - t0)) s; log $OUT/gpu-check.log"
  exit "$2"
}
# Seconds a step may take: its cap, or what is left of the budget when that is less.
allowance() { local left=$((budget - (SECONDS - t0))); [ "$left" -lt "$1" ] && echo "$left" || echo "$1"; }
[ -f transfer/dotnet.tar.xz ] && [ -f transfer/app.tar.xz ] || { echo "gpu-check: transfer/ is missing; run scripts/gpu-transfer.sh first and carry transfer/"; exit 1; }
device="${GPU_CHECK_DEVICE:-auto}"
require_cuda=(--require-cuda); [ "$device" = cpu ] && require_cuda=()
IFS=, read -r cal_samples cal_len <<<"${GPU_CHECK_CALIBRATION:-128,2048}"
IFS=: read -r bench_batches bench_prompt bench_new <<<"${GPU_CHECK_BENCH:-1,16:512:64}"

echo "== 1. machine"
uname -a; nproc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "no nvidia-smi"
python3 -c 'import torch; print("python torch", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available())' || echo "python3 has no torch"
nvcc --version | tail -n 2 || echo "no nvcc"
cmake --version | head -n 1; ninja --version; c++ --version | head -n 1

echo "== 2. .NET runtime and libLibTorchSharp.so"
tmp="${TMPDIR:-/tmp}"
dotnet_dir="$tmp/kit-dotnet"
rm -rf "$dotnet_dir" && mkdir -p "$dotnet_dir" && tar -C "$dotnet_dir" -xJf transfer/dotnet.tar.xz
export DOTNET_ROOT="$dotnet_dir" PATH="$dotnet_dir:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
"$dotnet_dir/dotnet" --list-runtimes
app="$tmp/kit-gpu-app"
rm -rf "$app" && mkdir -p "$app" && tar -C "$app" -xJf transfer/app.tar.xz && app="$app/app"
s=$SECONDS
if [ -n "${GPU_CHECK_NATIVE_DIR:-}" ]; then
  echo "libraries from $GPU_CHECK_NATIVE_DIR instead of a build (dry run)"
  cp "$GPU_CHECK_NATIVE_DIR"/*.so* "$app/"
  rc=$?
else
  KIT_TORCH_BUILD_DIR="$tmp/kit-torch-build" scripts/torch-from-python.sh transfer/torchsharp-native "$app"
  rc=$?
  cp "$tmp"/kit-torch-build/*.log "$OUT/" 2>/dev/null
fi
record native-library $rc $((SECONDS - s))
[ $rc -eq 0 ] || finish "the native library step failed (logs in $OUT)" 1
kit=("$dotnet_dir/dotnet" "$app/Kit.Cli.dll")
failures=0

echo "== 3. checks"
s=$SECONDS
timeout "$(allowance 200)" "$dotnet_dir/dotnet" "$app/GpuCheck.dll" --out "$OUT/check" --device "$device" "${require_cuda[@]}" \
  --gptq-shape "${GPU_CHECK_SHAPE:-4096,4096,128,2048}" --gptq-reference transfer/ist-daslab-gptq --python python3
rc=$?; record checks $rc $((SECONDS - s)); [ $rc -eq 0 ] || failures=$((failures + 1))

echo "== 4. whole model: GPTQ W4A16 of the ${GPU_CHECK_MODEL:-tinyllama-1.1b} shape in bfloat16, $cal_samples × $cal_len tokens"
models="$tmp/kit-gpu-models"
rm -rf "$models" && mkdir -p "$models"
s=$SECONDS
"${kit[@]}" create-model --shape "${GPU_CHECK_MODEL:-tinyllama-1.1b}" --dtype bfloat16 --out "$models/bf16" &&
  timeout "$(allowance 150)" "${kit[@]}" quantize --model "$models/bf16" --method gptq --scheme W4A16 \
    --calibration "$app/text/tinystories/tinystories_validation_head.txt" --samples "$cal_samples" --seq-len "$cal_len" \
    --device "$device" --out "$models/w4a16" --json >"$OUT/whole-model.json"
rc=$?; record whole-model $rc $((SECONDS - s)); [ $rc -eq 0 ] || failures=$((failures + 1))
[ $rc -eq 0 ] && python3 - "$OUT/whole-model.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))   # kit's --json: snake_case, nulls left out
layers = [l["seconds"] for l in r["layer_times"]]
gpu = r.get("peak_gpu_bytes")
print(f"{len(r['modules'])} modules in {r['seconds']:.1f} s; {len(layers)} layers, {sum(layers) / len(layers):.2f} s each on average "
      f"({min(layers):.2f}–{max(layers):.2f} s); peak host memory {r['peak_anonymous_bytes'] / 1e9:.2f} GB anonymous, "
      f"{r['peak_working_set_bytes'] / 1e9:.2f} GB resident; peak GPU memory {gpu / 1e9 if gpu else float('nan'):.2f} GB")
EOF

echo "== 5. decode and prefill: bf16 and W4A16 at batch $bench_batches, $bench_prompt prompt tokens, $bench_new new"
sweep_models="$models/bf16"; [ -f "$models/w4a16/config.json" ] && sweep_models="$sweep_models,$models/w4a16"
s=$SECONDS
if [ "$(allowance 60)" -lt 30 ]; then
  echo "gpu-check: no time left for the sweep"; rc=124
else
  timeout "$(allowance 600)" "${kit[@]}" bench sweep --models "$sweep_models" --batch "$bench_batches" \
    --prompt-tokens "$bench_prompt" --new-tokens "$bench_new" --repeats 2 --device "$device" --runs "$OUT/runs" --json >"$OUT/sweep.json"
  rc=$?
fi
record sweep $rc $((SECONDS - s)); [ $rc -eq 0 ] || failures=$((failures + 1))
[ $rc -eq 0 ] && cat "$OUT/runs/results.csv"

nvidia-smi --query-gpu=name,memory.used --format=csv || true
[ $failures -eq 0 ] && finish "all steps passed" 0
finish "$failures step(s) failed (exit 124 = out of time)" 1
