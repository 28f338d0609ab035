#!/usr/bin/env bash
# Runs the whole test suite: builds Release, runs every xunit test (Category=Slow included), then
# executes every notebook in notebooks/ headless in the .net-csharp kernel and checks its outputs.
# Ends with the line "N passed, N failed" and exits non-zero when anything failed.
# Executed notebooks land in artifacts/notebooks/, test results (TRX) in artifacts/test-results/.
set -uo pipefail   # not -e: every stage runs and its failures are counted
source "$(dirname "$0")/scripts/lib.sh"
cd "$KIT_ROOT"

results="artifacts/test-results"
executed="artifacts/notebooks"
rm -rf "$results" "$executed"
mkdir -p "$results" "$executed"
passed=0 failed=0 skipped=0

finish() {
  local line="$passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
  echo "$line"
  [ "$failed" -eq 0 ]
  exit
}

kit_say "dotnet build -c Release"
if ! kit_build; then
  echo "test.sh: the build failed" >&2
  failed=1
  finish
fi

# 1. xunit, counted from the TRX files the run leaves.
kit_say "dotnet test"
dotnet test Kit.sln -c Release --no-build --nologo --logger "trx;LogFilePrefix=kit" --results-directory "$results"
test_rc=$?
trx_counter() { sed -n "s/.*<Counters [^>]*\b$1=\"\([0-9]*\)\".*/\1/p" "$results"/*.trx 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
passed=$(trx_counter passed)
failed=$(( $(trx_counter failed) + $(trx_counter error) + $(trx_counter timeout) + $(trx_counter aborted) ))
skipped=$(trx_counter notExecuted)
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "test.sh: dotnet test exited with $test_rc but reported no failed test (test host crash?)" >&2
  failed=1
fi

# 2. Notebooks. nbconvert runs every cell and keeps errors in the executed copy (--allow-errors), so
#    the copy shows the compiler's diagnostics; check-notebook.py fails the notebook on any error
#    output, any stderr output, or an unmet cell expectation (tags expect-output:MIME, expect-text:WORD).
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ "${#notebooks[@]}" -gt 0 ] && ! jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -x "$KIT_KERNEL" >/dev/null; then
  echo "test.sh: Jupyter or its $KIT_KERNEL kernel is missing; run ./setup.sh first" >&2
  failed=$(( failed + ${#notebooks[@]} ))
  finish
fi
for notebook in "${notebooks[@]}"; do
  name="$(basename "$notebook" .ipynb)"
  kit_say "notebook $name"
  start=$SECONDS
  if jupyter nbconvert --to notebook --execute --allow-errors "$notebook" --output-dir "$executed" \
       --ExecutePreprocessor.kernel_name="$KIT_KERNEL" \
       --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.startup_timeout=300 \
       >"$executed/$name.log" 2>&1 \
     && python3 scripts/check-notebook.py "$executed/$name.ipynb"; then
    passed=$(( passed + 1 ))
    echo "  passed in $(( SECONDS - start )) s"
  else
    failed=$(( failed + 1 ))
    echo "  FAILED after $(( SECONDS - start )) s; executed copy and log in $executed/" >&2
    [ -f "$executed/$name.ipynb" ] || tail -n 30 "$executed/$name.log" >&2
  fi
done

finish
