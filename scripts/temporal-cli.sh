#!/usr/bin/env bash
# Finds the Temporal CLI (dev server + Web UI in one binary), building it from source with Go when no
# binary is available. Order: $TEMPORAL_CLI_PATH; `temporal` on PATH; the project cache
# .tools/bin/temporal; `go install` into that cache. With no binary and no Go, exits 3 so the caller
# can fall back to the Temporal SDK's own download of the dev server (machines with internet access).
#
#   scripts/temporal-cli.sh --print-path   prints the binary's path (builds it if needed)
#   scripts/temporal-cli.sh --ensure       same, but prints only progress messages
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="$root/.tools/bin"
mode="${1:---print-path}"

say() { echo "temporal-cli: $*" >&2; }

works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

found() {
  if [ "$mode" = "--print-path" ]; then echo "$1"; else say "using $1"; fi
  exit 0
}

if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  works "$TEMPORAL_CLI_PATH" && found "$TEMPORAL_CLI_PATH"
  say "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not a working Temporal CLI"
  exit 2
fi

if on_path="$(command -v temporal 2>/dev/null)" && works "$on_path"; then
  found "$on_path"
fi

if works "$cache_dir/temporal"; then
  found "$cache_dir/temporal"
fi

if command -v go >/dev/null 2>&1; then
  say "no Temporal CLI found; building temporal $TEMPORAL_CLI_VERSION from source with $(go version | cut -d' ' -f3)"
  say "into .tools/bin (the first build downloads modules and compiles for several minutes)..."
  mkdir -p "$cache_dir"
  start=$(date +%s)
  # v1.6+ carry a `replace` directive that `go install pkg@version` refuses, hence the pinned version.
  if GOBIN="$cache_dir" GOFLAGS="${GOFLAGS:-} -trimpath" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >&2; then
    say "built $("$cache_dir/temporal" --version | head -1) in $(( $(date +%s) - start ))s"
    found "$cache_dir/temporal"
  fi
  say "the Go build failed (see above)"
  exit 4
fi

say "no Temporal CLI and no Go toolchain. Install the Temporal CLI (https://docs.temporal.io/cli#install),"
say "put it on PATH or set TEMPORAL_CLI_PATH, or install Go to let this script build it."
exit 3
