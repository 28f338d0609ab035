# Shared by setup.sh, test.sh and ./kit: where things live and how the solution is built.
# Sourced, not run: it only defines variables and functions.

KIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KIT_CLI_DLL="$KIT_ROOT/src/Kit.Cli/bin/Release/net10.0/Kit.Cli.dll"
KIT_INTERACTIVE_VERSION="1.0.712001"
KIT_KERNEL=".net-csharp"

# Global .NET tools (dotnet-interactive) land here; a fresh login shell may not have it on PATH yet.
KIT_CALLER_PATH="$PATH"
case ":$PATH:" in
  *":$HOME/.dotnet/tools:"*) ;;
  *) export PATH="$PATH:$HOME/.dotnet/tools" ;;
esac
# The tools' app hosts look for the runtime here when dotnet is not in a default location.
if [ -z "${DOTNET_ROOT:-}" ] && command -v dotnet >/dev/null 2>&1; then
  DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  export DOTNET_ROOT
fi

kit_say() { printf '==> %s\n' "$*" >&2; }

# Builds the whole solution in Release. The build itself marks TorchSharp's GLIBCXX_3.4.32
# requirement weak (Directory.Build.targets); KIT_BUILD_ARGS adds options such as -m:1.
kit_build() {
  # shellcheck disable=SC2086
  dotnet build "$KIT_ROOT/Kit.sln" -c Release --nologo -v:q ${KIT_BUILD_ARGS:-} "$@"
}

# Every libLibTorchSharp.so the builds will load: the NuGet cache copy and those in build outputs.
kit_libtorchsharp_files() {
  local cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so"
  [ -f "$cache" ] && printf '%s\n' "$cache"
  find "$KIT_ROOT/src" "$KIT_ROOT/tests" "$KIT_ROOT/tools" -path '*/bin/*' -name libLibTorchSharp.so 2>/dev/null
}
