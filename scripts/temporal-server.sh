#!/usr/bin/env bash
# Finds or builds the pinned Temporal server binaries a local cluster needs, cached in the git-ignored
# .tools/bin (next to the CLI that scripts/temporal-cli.sh builds):
#
#   temporal-server-<v>     go.temporal.io/server/cmd/server            (history, matching, frontend, worker)
#   temporal-sql-tool-<v>   go.temporal.io/server/cmd/tools/sql         (creates and migrates the SQL schemas)
#   temporal-ui-server-<u>  github.com/temporalio/ui-server/v2/cmd/server (the Web UI; needs its module dir)
#
# The versions are the newest that build with Go 1.26.8 without fetching another toolchain
# (GOTOOLCHAIN=local): server v1.32.x from v1.32.1 on, and ui-server v2.56+, require a newer Go.
# The build is niced (it takes both cores for several minutes when the Go caches are cold).
#
#   scripts/temporal-server.sh --ensure        build what is missing, print progress only
#   scripts/temporal-server.sh --print-paths   build what is missing, then print KEY=path lines:
#                                              TEMPORAL_SERVER_BIN, TEMPORAL_SQL_TOOL_BIN,
#                                              TEMPORAL_UI_SERVER_BIN, TEMPORAL_UI_SERVER_ROOT
#   scripts/temporal-server.sh --check         exit 0 if all binaries are present (never builds)
#
# Overrides: TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH, TEMPORAL_UI_SERVER_PATH (+ TEMPORAL_UI_SERVER_ROOT)
# use binaries installed elsewhere; TEMPORAL_TOOLS_DIR moves the cache.
# Exit codes: 0 ok, 2 a given path is not a working binary, 3 no Go toolchain, 4 the Go build failed.
set -euo pipefail

TEMPORAL_SERVER_VERSION="${TEMPORAL_SERVER_VERSION:-v1.32.0}"
TEMPORAL_UI_SERVER_VERSION="${TEMPORAL_UI_SERVER_VERSION:-v2.54.1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${TEMPORAL_TOOLS_DIR:-$root/.tools}/bin"
mode="${1:---print-paths}"

say() { echo "temporal-server: $*" >&2; }

server_bin="${TEMPORAL_SERVER_PATH:-$bin_dir/temporal-server-$TEMPORAL_SERVER_VERSION}"
sql_bin="${TEMPORAL_SQL_TOOL_PATH:-$bin_dir/temporal-sql-tool-$TEMPORAL_SERVER_VERSION}"
ui_bin="${TEMPORAL_UI_SERVER_PATH:-$bin_dir/temporal-ui-server-$TEMPORAL_UI_SERVER_VERSION}"

for given in TEMPORAL_SERVER_PATH TEMPORAL_SQL_TOOL_PATH TEMPORAL_UI_SERVER_PATH; do
  if [ -n "${!given:-}" ] && [ ! -x "${!given}" ]; then
    say "$given=${!given} is not an executable file"
    exit 2
  fi
done

missing=()
[ -x "$server_bin" ] || missing+=(server)
[ -x "$sql_bin" ] || missing+=(sql)
[ -x "$ui_bin" ] || missing+=(ui)

ui_module_dir() {
  # The UI server reads its config templates from its module directory (--root).
  GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/temporalio/ui-server/v2@$TEMPORAL_UI_SERVER_VERSION" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -1
}

if [ "$mode" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  say "missing: ${missing[*]}"
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v go >/dev/null 2>&1; then
    say "no Go toolchain on PATH, and no prebuilt binaries (missing: ${missing[*]})."
    say "Install Go >= 1.26.8 (https://go.dev/dl/) or point TEMPORAL_SERVER_PATH, TEMPORAL_SQL_TOOL_PATH and"
    say "TEMPORAL_UI_SERVER_PATH at binaries of server $TEMPORAL_SERVER_VERSION / ui-server $TEMPORAL_UI_SERVER_VERSION."
    exit 3
  fi
  mkdir -p "$bin_dir"
  # One build at a time per cache (CI and a developer may start one together); the second waits and
  # then finds the binaries.
  exec 9>"$bin_dir/.temporal-server-build.lock"
  flock 9
  missing=()
  [ -x "$server_bin" ] || missing+=(server)
  [ -x "$sql_bin" ] || missing+=(sql)
  [ -x "$ui_bin" ] || missing+=(ui)
fi

build() { # build <package@version> <target file>
  local pkg="$1" target="$2" tmp start
  tmp="$(mktemp -d "$bin_dir/.build.XXXXXX")"
  start=$(date +%s)
  say "building $pkg with $(go version | cut -d' ' -f3) (cold Go caches: several minutes)..."
  if ! GOTOOLCHAIN=local GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -trimpath" nice -n 19 go install "$pkg" >&2; then
    rm -rf "$tmp"
    say "the Go build of $pkg failed (see above)"
    exit 4
  fi
  mv "$tmp"/* "$target"
  rm -rf "$tmp"
  say "built $(basename "$target") in $(($(date +%s) - start))s"
}

for what in "${missing[@]}"; do
  case "$what" in
    server) build "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" "$server_bin" ;;
    sql) build "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" "$sql_bin" ;;
    ui) build "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION" "$ui_bin" ;;
  esac
done

ui_root="${TEMPORAL_UI_SERVER_ROOT:-}"
if [ -z "$ui_root" ]; then
  ui_root="$(ui_module_dir || true)"
fi
if [ -z "$ui_root" ] || [ ! -d "$ui_root/config" ]; then
  say "cannot find the ui-server $TEMPORAL_UI_SERVER_VERSION module directory (its config templates);"
  say "set TEMPORAL_UI_SERVER_ROOT to a checkout of github.com/temporalio/ui-server at that version"
  exit 4
fi

if [ "$mode" = "--print-paths" ]; then
  echo "TEMPORAL_SERVER_BIN=$server_bin"
  echo "TEMPORAL_SQL_TOOL_BIN=$sql_bin"
  echo "TEMPORAL_UI_SERVER_BIN=$ui_bin"
  echo "TEMPORAL_UI_SERVER_ROOT=$ui_root"
else
  say "server $TEMPORAL_SERVER_VERSION, sql tool and ui-server $TEMPORAL_UI_SERVER_VERSION ready in ${bin_dir#"$root"/}"
fi
