#!/usr/bin/env bash
# Finds Prometheus and promtool (the observability tests and the alert-rule checks need both), and on
# Debian/Ubuntu installs Debian's `prometheus` package when they are missing. Idempotent: does nothing
# when both binaries work. Order: $PROMETHEUS_BIN / $PROMTOOL_BIN; PATH; apt-get (as root, or via sudo
# without a password).
#
#   scripts/prometheus.sh --ensure       install if missing; progress on stderr; exit 0 when usable
#   scripts/prometheus.sh --print-path   print "<prometheus> <promtool>" (installs if missing)
#   scripts/prometheus.sh --check        exit 0 when usable, 3 when not (never installs)
#   PROMETHEUS_NO_INSTALL=1               any mode: find only, never install (the tests use this)
set -euo pipefail

mode="${1:---ensure}"
say() { echo "prometheus: $*" >&2; }
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

find_bins() {
  prom="${PROMETHEUS_BIN:-$(command -v prometheus 2>/dev/null || true)}"
  tool="${PROMTOOL_BIN:-$(command -v promtool 2>/dev/null || true)}"
  works "$prom" && works "$tool"
}

done_ok() {
  if [ "$mode" = "--print-path" ]; then echo "$prom $tool"; else say "using $prom and $tool"; fi
  exit 0
}

find_bins && done_ok
if [ "$mode" = "--check" ] || [ -n "${PROMETHEUS_NO_INSTALL:-}" ]; then
  say "prometheus/promtool not found"
  exit 3
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "not found, and no apt-get to install Debian's prometheus package; install Prometheus 2.x and put prometheus and promtool on PATH (or set PROMETHEUS_BIN/PROMTOOL_BIN)"
  exit 3
fi
sudo_cmd=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    say "not found; installing needs root: run 'apt-get install prometheus' as root"
    exit 3
  fi
fi

say "installing Debian's prometheus package (apt-get)"
export DEBIAN_FRONTEND=noninteractive
# The package's service is not started in containers without an init system (policy-rc.d / no systemd);
# the tests start their own Prometheus on a free port.
"${sudo_cmd[@]}" apt-get update -qq >&2
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends prometheus >&2
find_bins && done_ok
say "installed, but prometheus/promtool still do not run"
exit 3
