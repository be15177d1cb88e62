#!/usr/bin/env bash
# Schema-driven fuzzing of the live API: Schemathesis reads the API's own OpenAPI document
# (GET /openapi.json) and sends generated requests, valid and invalid, to every documented operation,
# with every check it has (no 5xx, only documented statuses, content types and response headers as
# documented, response bodies valid against their schemas, invalid requests refused, valid requests
# accepted, missing required headers refused, unsupported methods answered 405 with Allow, auth not
# ignored...). Exits non-zero on any finding.
#
# The API runs with everything it needs on free loopback ports (scripts/api-stack.ts: an in-memory
# Temporal dev server, the simulators, a worker, the API, a fresh access key with every scope), and all
# of it is stopped again at the end, whatever happened. Schemathesis is installed from PyPI, at the exact
# versions of scripts/fuzz-api.requirements.txt, into .tools/schemathesis-<version>/ (git-ignored) on the
# first run only. Needs python3 (3.11 or newer) with venv, and the Temporal CLI (scripts/temporal-cli.sh).
#
#   scripts/fuzz-api.sh [--max-examples N] [--seed N] [--workers N] [--report-dir DIR] [--install-only]
#   npm run fuzz:api -- [same options]
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/scripts/fuzz-api.requirements.txt"
venv="$root/.tools/schemathesis-$SCHEMATHESIS_VERSION"

usage() {
  cat >&2 <<'EOF'
usage: scripts/fuzz-api.sh [options]
  --max-examples N   generated test cases per operation and phase (default 30)
  --seed N           the generator's seed, for a reproducible run (default 1)
  --workers N        concurrent Schemathesis workers, 1-8 (default 1; more can trip a thread-safety
                     bug of CPython 3.11 in the generator, reported as a Runtime Error)
  --report-dir DIR   where the JUnit report goes (default .data/fuzz-api)
  --phases LIST      Schemathesis phases, comma-separated, of examples, coverage, fuzzing, stateful
                     (default all four; the stateful phase follows links with the ids the API answered,
                     so a seed does not make it repeat exactly: CI runs the other three)
  --install-only     install Schemathesis (if needed) and stop
EOF
}
say() { echo "fuzz-api: $*" >&2; }
bad() {
  say "$*"
  usage
  exit 2
}

max_examples=30
seed=1
workers=1
phases=examples,coverage,fuzzing,stateful
report_dir="$root/.data/fuzz-api"
install_only=0
while [ $# -gt 0 ]; do
  case "$1" in
  --max-examples | --seed | --workers | --report-dir | --phases)
    [ $# -ge 2 ] && [ -n "$2" ] || bad "$1 needs a value"
    case "$1" in
    --max-examples)
      [[ "$2" =~ ^[1-9][0-9]{0,4}$ ]] || bad "--max-examples: a whole number from 1, not '$2'"
      max_examples="$2"
      ;;
    --seed)
      [[ "$2" =~ ^[0-9]{1,18}$ ]] || bad "--seed: a whole number, not '$2'"
      seed="$2"
      ;;
    --workers)
      [[ "$2" =~ ^[1-8]$ ]] || bad "--workers: 1 to 8, not '$2'"
      workers="$2"
      ;;
    --report-dir) report_dir="$2" ;;
    --phases)
      [[ "$2" =~ ^(examples|coverage|fuzzing|stateful)(,(examples|coverage|fuzzing|stateful))*$ ]] ||
        bad "--phases: a comma-separated list of examples, coverage, fuzzing, stateful, not '$2'"
      phases="$2"
      ;;
    esac
    shift 2
    ;;
  --install-only)
    install_only=1
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) bad "unknown argument '$1'" ;;
  esac
done

# ---- Schemathesis, installed once per pinned requirements file ------------------------------------------
install_schemathesis() {
  local want stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    say "using Schemathesis $SCHEMATHESIS_VERSION from .tools/schemathesis-$SCHEMATHESIS_VERSION"
    return 0
  fi
  command -v python3 >/dev/null || {
    say "python3 is needed (3.11 or newer, with the venv module)"
    return 1
  }
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    say "python3 $(python3 -c 'import platform; print(platform.python_version())') is too old: 3.11 or newer"
    return 1
  }
  say "installing Schemathesis $SCHEMATHESIS_VERSION from PyPI into .tools/schemathesis-$SCHEMATHESIS_VERSION..."
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet -r "$requirements"
  "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION" || {
    say "the installed Schemathesis is not $SCHEMATHESIS_VERSION"
    return 1
  }
  echo "$want" >"$stamp"
}
mkdir -p "$root/.tools"
# One installer at a time (two runs starting together share the same folder).
(
  flock 9
  install_schemathesis
) 9>"$root/.tools/.schemathesis.lock"
[ "$install_only" -eq 0 ] || exit 0

# ---- the run ---------------------------------------------------------------------------------------------
mkdir -p "$report_dir"
report_dir="$(cd "$report_dir" && pwd)"
cd "$root"
say "checks: all; modes: positive and negative; phases: $phases; $max_examples examples per operation; seed $seed"
# The stack runs the command once the API answers, with API_URL and API_KEY set, then stops everything.
# The hooks file lists the few refusals the document states in words (JSON Schema cannot), see there.
# It runs in the report folder, where it also keeps its replay cache (.schemathesis/, for `st replay`).
SCHEMATHESIS_HOOKS="$root/scripts/fuzz-api-hooks.py" FUZZ_REPORT_DIR="$report_dir" \
  node --import tsx scripts/api-stack.ts -- bash -c '
  cd "$FUZZ_REPORT_DIR" && exec "$0" run "$API_URL/openapi.json" --header "Authorization: Bearer $API_KEY" "$@"' \
  "$venv/bin/schemathesis" \
  --checks all \
  --mode all \
  --phases "$phases" \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers "$workers" \
  --generation-database none \
  --request-timeout 20 \
  --max-response-time 30 \
  --report junit --report-dir "$report_dir" &
stack=$!
# Ctrl-C or a TERM (e.g. a CI timeout) stops the stack, which stops everything it started.
trap 'kill -TERM "$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true; exit 130' INT TERM
rc=0
wait "$stack" || rc=$?
trap - INT TERM
if [ "$rc" -eq 0 ]; then
  say "no findings (report: $report_dir)"
else
  say "FAILED (exit $rc): findings above; JUnit report in $report_dir"
fi
exit "$rc"
