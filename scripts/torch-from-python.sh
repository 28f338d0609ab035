#!/usr/bin/env bash
# Builds TorchSharp 0.107.0's native library (libLibTorchSharp.so) against the libtorch inside python3's
# PyTorch, so that Kit runs on that PyTorch (CUDA when its build has CUDA) instead of NuGet's libtorch.
#
#   scripts/torch-from-python.sh SOURCE_DIR [OUT_DIR]
#
# SOURCE_DIR  TorchSharp's native source: the folder holding src/Native (or src/Native itself), such as
#             a copy of TorchSharp 0.107.0's src/Native and its licence (not in this repository)
# OUT_DIR     where the library goes (default artifacts/torch-python/, which a build with
#             -p:KitTorchBackend=python copies into its outputs). When OUT_DIR is an application folder
#             (it holds TorchSharp.dll), every libLibTorchSharp.so in it is replaced as well.
#
# Environment: PYTHON (default python3), KIT_TORCH_BUILD_DIR (default OUT_DIR/build), KIT_TORCH_JOBS
# (default: all cores), KIT_TORCH_CXXFLAGS (default -Wno-error=deprecated-declarations: TorchSharp's
# CMakeLists builds with -Werror, and a newer libtorch deprecates APIs the 0.107.0 source still calls).
set -euo pipefail
KIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { printf 'torch-from-python: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*" >&2; }
# A failed step: name it, show the tail of its log, exit.
step_failed() {
  local step="$1" log="$2"
  printf 'torch-from-python: step "%s" failed; full log: %s; its last 40 lines:\n' "$step" "$log" >&2
  tail -n 40 "$log" >&2
  exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
source_dir="$1"
out_dir="${2:-$KIT_ROOT/artifacts/torch-python}"
if [ -f "$source_dir/src/Native/CMakeLists.txt" ]; then native="$source_dir/src/Native"
elif [ -f "$source_dir/CMakeLists.txt" ] && [ -d "$source_dir/LibTorchSharp" ]; then native="$source_dir"
else die "$source_dir is not TorchSharp's native source (no src/Native/CMakeLists.txt in it)"; fi
native="$(cd "$native" && pwd)"

# 1. python3 and its torch.
python="${PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || die "no $python on PATH; install Python 3 with PyTorch, or set PYTHON=/path/to/python3"
query='import torch, os; print(torch.utils.cmake_prefix_path); print(torch.__version__); print(torch.version.cuda); print(os.path.dirname(torch.__file__))'
if ! info="$("$python" -c "$query" 2>&1)"; then
  die "$(command -v "$python") cannot import torch ($(printf '%s\n' "$info" | tail -n 1)); install PyTorch (pip install torch) or set PYTHON"
fi
mapfile -t fields <<<"$info"
cmake_prefix="${fields[0]}" torch_version="${fields[1]}" torch_cuda="${fields[2]}" torch_dir="${fields[3]}"
torch_lib="$torch_dir/lib"
[ -f "$torch_lib/libtorch_cpu.so" ] || die "$torch_lib has no libtorch_cpu.so: this torch does not carry libtorch's shared libraries"
[ -d "$torch_dir/include/torch" ] || die "$torch_dir/include has no libtorch headers (a wheel carries them; Debian's are in libtorch-dev)"
say "python torch $torch_version (CUDA ${torch_cuda}) at $torch_dir"

for tool in cmake ninja; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required (apt-get install $tool, or pip install $tool)"
done
command -v "${CXX:-c++}" >/dev/null 2>&1 || die "no C++ compiler (${CXX:-c++}); install g++ or set CXX"

# 2. Configure. The wheel's CMake config sits under cmake_prefix_path; Debian's python3-torch has none
#    there (libtorch-dev installs it system-wide), so CMake's own search must then find it.
build="${KIT_TORCH_BUILD_DIR:-$out_dir/build}"
mkdir -p "$build"
build="$(cd "$build" && pwd)"
if [ -f "$cmake_prefix/Torch/TorchConfig.cmake" ]; then
  prefix_args=(-DLIBTORCH_PATH="$cmake_prefix" -DCMAKE_PREFIX_PATH="$cmake_prefix")
else
  say "no TorchConfig.cmake under $cmake_prefix; letting CMake search the system's (e.g. Debian's libtorch-dev)"
  prefix_args=()
fi
say "configure: cmake -G Ninja $native -> $build"
cmake -S "$native" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${prefix_args[@]}" \
  -DCMAKE_CXX_FLAGS="${KIT_TORCH_CXXFLAGS--Wno-error=deprecated-declarations}" \
  >"$build/configure.log" 2>&1 || step_failed configure "$build/configure.log"
torch_config="$(sed -n 's/^Torch_DIR:PATH=//p' "$build/CMakeCache.txt")"
say "libtorch's CMake config: $torch_config"

# 3. Compile and link; -k 0 keeps going past a failing file, so that a failure lists every file that fails.
jobs="${KIT_TORCH_JOBS:-$(nproc)}"
say "compile: ninja -k 0 -j $jobs LibTorchSharp (log: $build/build.log)"
if ! ninja -C "$build" -k 0 -j "$jobs" LibTorchSharp >"$build/build.log" 2>&1; then
  failing="$(grep -oE '^[^ :]+\.(cpp|c|h):[0-9]+:[0-9]+: (fatal )?error' "$build/build.log" | cut -d: -f1 | sort | uniq -c | sort -rn || true)"
  [ -n "$failing" ] && printf 'torch-from-python: compile errors per file:\n%s\n' "$failing" >&2
  step_failed compile "$build/build.log"
fi
lib="$build/LibTorchSharp/libLibTorchSharp.so"
[ -f "$lib" ] || die "the build finished but $lib is missing"

# 4. Check it resolves its libtorch in python's torch/lib (the build's RUNPATH points there).
resolved="$(ldd "$lib" | awk '$1=="libtorch_cpu.so"{print $3}')"
[ "$(readlink -f "$resolved")" = "$(readlink -f "$torch_lib/libtorch_cpu.so")" ] ||
  die "$lib resolves libtorch_cpu.so to '${resolved:-nothing}', not $torch_lib/libtorch_cpu.so (ldd $lib)"
if [ "$torch_cuda" != "None" ] && ! ldd "$lib" | grep -q 'libtorch_cuda.so'; then
  die "torch has CUDA $torch_cuda but $lib does not link libtorch_cuda.so, so Kit would see no GPU"
fi

# 5. Install.
mkdir -p "$out_dir"
if [ -n "$(find "$out_dir" -name libtorch_cpu.so -print -quit)" ]; then
  die "$out_dir holds NuGet's libtorch (libtorch_cpu.so), which would be loaded instead of python's; build Kit with -p:KitTorchBackend=python"
fi
cp "$lib" "$out_dir/libLibTorchSharp.so.new" && mv "$out_dir/libLibTorchSharp.so.new" "$out_dir/libLibTorchSharp.so"
replaced=0
if [ -n "$(find "$out_dir" -name TorchSharp.dll -print -quit)" ]; then
  while IFS= read -r copy; do
    [ "$copy" -ef "$out_dir/libLibTorchSharp.so" ] && continue
    cp "$lib" "$copy"; replaced=$((replaced + 1))
  done < <(find "$out_dir" -name libLibTorchSharp.so -not -path "$build/*")
fi
cat >"$out_dir/torch-python.json" <<EOF
{"torch_version": "$torch_version", "cuda": "$torch_cuda", "torch_lib": "$torch_lib", "torch_config": "$torch_config", "library": "$out_dir/libLibTorchSharp.so"}
EOF
say "libLibTorchSharp.so for torch $torch_version (CUDA $torch_cuda): $out_dir/libLibTorchSharp.so, and $replaced copies replaced in the app folder"
