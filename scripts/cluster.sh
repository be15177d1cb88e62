#!/usr/bin/env bash
# A Temporal cluster on this machine, the production way: the Temporal server on PostgreSQL, run as
# separate processes (history on its own, frontend + matching + internal worker in a second one), the
# Web UI server, the namespace and the project's search attributes. Everything binds 127.0.0.1; data
# lives under .data/cluster (git-ignored).
#
#   scripts/cluster.sh start    bring it up (idempotent: starts only what is not running)
#   scripts/cluster.sh stop     stop it (idempotent); the data stays
#   scripts/cluster.sh status   what runs, on which ports
#   scripts/cluster.sh env      TEMPORAL_ADDRESS=... and friends, for `eval` or an env file
#   scripts/cluster.sh reset    stop and delete the cluster's data
#
# Configuration (environment; recorded at the first start, reused while the data exists):
#   CLUSTER_PORT            frontend gRPC port (default 7233, at most 33061; `auto` picks a free range). The other
#                           server ports follow Temporal's layout: history +1, matching +2, worker +6,
#                           frontend HTTP +10, membership ports -300 (+0/+1/+2/+6).
#   CLUSTER_UI_PORT         Web UI (default 8080; with CLUSTER_PORT=auto, auto too); CLUSTER_UI=0: no UI
#   CLUSTER_PG_PORT         PostgreSQL (default 5433; with CLUSTER_PORT=auto, auto too)
#   CLUSTER_NAMESPACE       namespace to create (default `default`), retention CLUSTER_RETENTION (72h)
#   CLUSTER_HISTORY_SHARDS  history shards, fixed for the life of the data (default 4)
#   CLUSTER_DIR             data folder (default .data/cluster)
#   CLUSTER_DYNAMIC_CONFIG  dynamic config file (default temporal-docker/dynamicconfig/development.yaml,
#                           the one the compose stack uses too)
#   CLUSTER_PG_BIN          PostgreSQL's bin folder (default: the newest /usr/lib/postgresql/*/bin)
# Exit codes: 0 ok; 1 a step failed (named in the message; what this run started is stopped again).
set -Eeuo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-status}"
dir="${CLUSTER_DIR:-$root/.data/cluster}"
state="$dir/cluster.env"
run="$dir/run"
logs="$dir/logs"
host=127.0.0.1

say() { echo "cluster: $*" >&2; }

# --- failure handling: name the step and the reason, stop what this invocation started ------------
step="preparing"
started=()
fail() {
  say "FAILED at step '$step': $*"
  if [ ${#started[@]} -gt 0 ]; then
    say "stopping what this run started: ${started[*]}"
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do stop_component "${started[$i]}" || true; done
  fi
  exit 1
}
trap 'fail "unexpected error (exit code $?) in: $BASH_COMMAND"' ERR

valid_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1024 ] && [ "$1" -le 65535 ]; }
port_in_use() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

# --- configuration -----------------------------------------------------------------------------------
load_state() {
  # shellcheck disable=SC1090
  [ -f "$state" ] && . "$state"
  return 0
}

ports_for_base() { # frontend port -> every server port
  local b="$1"
  echo "$b $((b + 1)) $((b + 2)) $((b + 6)) $((b + 10)) $((b - 300)) $((b - 299)) $((b - 298)) $((b - 294))"
}

all_free() { local p; for p in "$@"; do port_in_use "$p" && return 1; done; return 0; }

pick_auto_ports() {
  local try base
  for try in $(seq 1 50); do
    # Below 32768: the server stores membership ports as a SQL smallint, and Linux hands out
    # ephemeral ports from 32768 up, so a range here cannot collide with outgoing connections.
    base=$((10000 + (RANDOM % 220) * 100 + 33))
    # shellcheck disable=SC2046
    if all_free $(ports_for_base "$base") $((base + 50)) $((base + 60)); then
      CLUSTER_PORT=$base
      [ "${CLUSTER_UI_PORT:-auto}" = auto ] && CLUSTER_UI_PORT=$((base + 50))
      [ "${CLUSTER_PG_PORT:-auto}" = auto ] && CLUSTER_PG_PORT=$((base + 60))
      return 0
    fi
  done
  fail "no free port range found for CLUSTER_PORT=auto"
}

configure() {
  local want_port="${CLUSTER_PORT:-}" want_ui="${CLUSTER_UI_PORT:-}" want_pg="${CLUSTER_PG_PORT:-}"
  CLUSTER_RETENTION="${CLUSTER_RETENTION:-72h}"
  CLUSTER_UI="${CLUSTER_UI:-1}"
  if [ -f "$state" ]; then
    load_state
    if any_running; then
      # A running cluster keeps its ports; asking for others is a mistake worth naming.
      if [ -n "$want_port" ] && [ "$want_port" != auto ] && [ "$want_port" != "$CLUSTER_PORT" ]; then
        fail "the cluster in ${dir#"$root"/} is running on port $CLUSTER_PORT, not $want_port; stop it first"
      fi
      return 0
    fi
    # Stopped: new ports may be chosen; the shards and the password belong to the data.
    [ -n "$want_port" ] && CLUSTER_PORT="$want_port"
    [ -n "$want_ui" ] && CLUSTER_UI_PORT="$want_ui"
    [ -n "$want_pg" ] && CLUSTER_PG_PORT="$want_pg"
    [ "$want_port" = auto ] && { [ -n "$want_ui" ] || CLUSTER_UI_PORT=auto; [ -n "$want_pg" ] || CLUSTER_PG_PORT=auto; }
  else
    CLUSTER_PORT="${want_port:-7233}"
    if [ "$CLUSTER_PORT" = auto ]; then
      CLUSTER_UI_PORT="${want_ui:-auto}"
      CLUSTER_PG_PORT="${want_pg:-auto}"
    else
      CLUSTER_UI_PORT="${want_ui:-8080}"
      CLUSTER_PG_PORT="${want_pg:-5433}"
    fi
    CLUSTER_HISTORY_SHARDS="${CLUSTER_HISTORY_SHARDS:-4}"
  fi
  CLUSTER_NAMESPACE="${CLUSTER_NAMESPACE:-default}"
  if [ "$CLUSTER_PORT" = auto ]; then
    pick_auto_ports
  fi
  [ "$CLUSTER_UI_PORT" = auto ] && CLUSTER_UI_PORT=$((CLUSTER_PORT + 50))
  [ "$CLUSTER_PG_PORT" = auto ] && CLUSTER_PG_PORT=$((CLUSTER_PORT + 60))
  # The membership ports (CLUSTER_PORT - 300 ... - 294) go into a smallint column of the database.
  { valid_port "$CLUSTER_PORT" && valid_port $((CLUSTER_PORT - 300)) && [ $((CLUSTER_PORT - 294)) -le 32767 ]; } ||
    fail "CLUSTER_PORT=$CLUSTER_PORT is not a port number between 1324 and 33061 (or 'auto')"
  valid_port "$CLUSTER_UI_PORT" || fail "CLUSTER_UI_PORT=$CLUSTER_UI_PORT is not a port number (1024-65535)"
  valid_port "$CLUSTER_PG_PORT" || fail "CLUSTER_PG_PORT=$CLUSTER_PG_PORT is not a port number (1024-65535)"
  [[ "$CLUSTER_HISTORY_SHARDS" =~ ^[1-9][0-9]*$ ]] || fail "CLUSTER_HISTORY_SHARDS must be a positive integer"
}

save_state() {
  mkdir -p "$dir"
  cat >"$state" <<EOF
CLUSTER_PORT=$CLUSTER_PORT
CLUSTER_UI_PORT=$CLUSTER_UI_PORT
CLUSTER_PG_PORT=$CLUSTER_PG_PORT
CLUSTER_HISTORY_SHARDS=$CLUSTER_HISTORY_SHARDS
CLUSTER_NAMESPACE=$CLUSTER_NAMESPACE
EOF
}

# --- process bookkeeping -----------------------------------------------------------------------------
components=(postgres history frontend ui)

pid_of() { # prints the pid of a running component, or fails
  local c="$1" pid
  if [ "$c" = postgres ]; then
    [ -f "$dir/postgres/postmaster.pid" ] || return 1
    pid="$(head -1 "$dir/postgres/postmaster.pid")"
  else
    [ -f "$run/$c.pid" ] || return 1
    pid="$(cat "$run/$c.pid")"
  fi
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # The pid must still be ours (not reused by an unrelated process after a reboot).
  if [ "$c" = postgres ]; then
    grep -qa postgres "/proc/$pid/cmdline" || return 1
  else
    grep -qaF "$(cat "$run/$c.exe" 2>/dev/null || echo "?")" "/proc/$pid/cmdline" || return 1
  fi
  echo "$pid"
}

any_running() { local c; for c in "${components[@]}"; do pid_of "$c" >/dev/null && return 0; done; return 1; }

as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_component() {
  local c="$1" pid i
  pid="$(pid_of "$c")" || { rm -f "$run/$c.pid"; return 0; }
  if [ "$c" = postgres ]; then
    as_pg_user "$PG_BIN/pg_ctl" -D "$dir/postgres" -m fast -w -t 60 stop >/dev/null
    say "stopped postgres"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$c (pid $pid) ignored SIGTERM for 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$run/$c.pid"
  say "stopped $c"
}

spawn() { # spawn <component> <executable> <command...>: detached from this shell's session,
  # logs in logs/<component>.log; the executable's name identifies the process later.
  local c="$1" exe="$2"
  shift 2
  mkdir -p "$run" "$logs"
  # The process writes its own pid (then execs the command): setsid forks when the caller happens to
  # be a process-group leader, so $! is not always the server's pid.
  rm -f "$run/$c.pid"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$run/$c.pid" "$@" >"$logs/$c.log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 50); do [ -s "$run/$c.pid" ] && break; sleep 0.1; done
  basename "$exe" >"$run/$c.exe"
  started+=("$c")
}

wait_for() { # wait_for <component> <seconds> <probe command...>
  local c="$1" secs="$2" deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$c" >/dev/null; then
      say "$c exited; last lines of ${logs#"$root"/}/$c.log:"
      tail -n 15 "$logs/$c.log" >&2 || true
      fail "$c stopped during start-up"
    fi
    [ $SECONDS -lt "$deadline" ] || fail "$c did not become ready within ${secs}s (log: ${logs#"$root"/}/$c.log)"
    sleep 0.2
  done
}

# --- tools ---------------------------------------------------------------------------------------------
find_pg_bin() {
  if [ -n "${CLUSTER_PG_BIN:-}" ]; then
    [ -x "$CLUSTER_PG_BIN/initdb" ] || fail "CLUSTER_PG_BIN=$CLUSTER_PG_BIN has no initdb"
    PG_BIN="$CLUSTER_PG_BIN"
    return 0
  fi
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]
}

ensure_postgres_installed() {
  step="install PostgreSQL"
  find_pg_bin && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "PostgreSQL is not installed and cannot be installed here (needs root and apt-get). Install the" \
      "server (Debian/Ubuntu: apt-get install postgresql; 13 or newer) or set CLUSTER_PG_BIN to its bin folder"
  fi
  say "PostgreSQL is not installed: installing Debian's postgresql (about 25 MB)..."
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } >&2; then
    fail "apt-get could not install postgresql (see above)"
  fi
  find_pg_bin || fail "postgresql was installed but no initdb was found under /usr/lib/postgresql"
}

ensure_binaries() {
  step="find or build the Temporal server"
  local out rc=0
  out="$(bash "$root/scripts/temporal-server.sh" --print-paths)" || rc=$?
  case $rc in
    0) ;;
    3) fail "no Go toolchain to build the Temporal server, and no prebuilt binaries (see above)" ;;
    *) fail "scripts/temporal-server.sh exited $rc (see above)" ;;
  esac
  eval "$out"
  step="find or build the Temporal CLI"
  TEMPORAL_CLI="$(bash "$root/scripts/temporal-cli.sh" --print-path)" || fail "no Temporal CLI (see above)"
}

pg_password() {
  if [ ! -s "$dir/pg-password" ]; then
    mkdir -p "$dir"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/pg-password")
  fi
  cat "$dir/pg-password"
}

psql_q() { # psql_q <db> <sql>: one value, over TCP with the temporal role
  PGPASSWORD="$(pg_password)" "$PG_BIN/psql" -h "$host" -p "$CLUSTER_PG_PORT" -U temporal -d "$1" -XAtqc "$2"
}

# --- steps ---------------------------------------------------------------------------------------------
# PostgreSQL refuses to run as root, so a root caller runs it as the postgres user, which must be able to
# reach the data folder: a folder on the way that only its owner may enter (mktemp -d makes such folders)
# gets search permission for others (o+x: enter, not list), and the script says which.
grant_pg_traversal() {
  [ "$(id -u)" -eq 0 ] || return 0
  local path="" part
  local -a parts
  IFS=/ read -ra parts <<<"${dir#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    if ! runuser -u postgres -- test -x "$path" 2>/dev/null; then
      chmod o+x "$path"
      say "gave others search permission (o+x) on $path so that the postgres user reaches the data folder"
    fi
  done
}

start_postgres() {
  step="start PostgreSQL"
  if pid_of postgres >/dev/null; then
    say "postgres already running (port $CLUSTER_PG_PORT)"
    return 0
  fi
  port_in_use "$CLUSTER_PG_PORT" && fail "port $CLUSTER_PG_PORT (CLUSTER_PG_PORT, PostgreSQL) is already in use"
  local pgdata="$dir/postgres" pgrun="$dir/pg-run"
  mkdir -p "$dir"
  grant_pg_traversal
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    step="initialise PostgreSQL (initdb)"
    rm -rf "$pgdata"
    mkdir -p "$pgdata" "$pgrun"
    local pwfile="$pgrun/initdb-password"
    pg_password >"$pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pgdata" "$pgrun" "$pwfile"; fi
    chmod 700 "$pgdata"
    if ! as_pg_user "$PG_BIN/initdb" -D "$pgdata" -U temporal --pwfile="$pwfile" -E UTF8 --locale=C \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 >"$dir/initdb.log" 2>&1; then
      rm -f "$pwfile"
      tail -n 15 "$dir/initdb.log" >&2
      rm -rf "$pgdata"
      fail "initdb failed (log: ${dir#"$root"/}/initdb.log)"
    fi
    rm -f "$pwfile"
  fi
  mkdir -p "$pgrun"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pgrun"; fi
  chmod 700 "$pgrun"
  step="start PostgreSQL"
  started+=(postgres)
  # Loopback only, a socket folder of its own (the system's /var/run/postgresql may belong to another
  # cluster), and enough connections for two server processes (history 20 + visibility 10 each).
  if ! as_pg_user "$PG_BIN/pg_ctl" -D "$pgdata" -l "$pgrun/postgres.log" -w -t 60 \
    -o "-c listen_addresses=$host -p $CLUSTER_PG_PORT -c unix_socket_directories=$pgrun -c max_connections=200" \
    start >/dev/null; then
    tail -n 15 "$pgrun/postgres.log" >&2 || true
    fail "pg_ctl start failed (log: ${pgrun#"$root"/}/postgres.log)"
  fi
  say "postgres up on $host:$CLUSTER_PG_PORT"
}

why() { # the last lines a failed tool printed, or that it printed nothing
  if [ -n "$1" ]; then tail -n 3 <<<"$1"; else echo "it exited non-zero without a message"; fi
}

setup_schemas() {
  step="set up the Temporal schemas"
  local sql=("$TEMPORAL_SQL_TOOL_BIN" --plugin postgres12 --ep "$host" -p "$CLUSTER_PG_PORT" -u temporal --pw "$(pg_password)")
  local db schema out
  for db in temporal temporal_visibility; do
    if [ "$db" = temporal ]; then schema=postgresql/v12/temporal; else schema=postgresql/v12/visibility; fi
    if [ "$(psql_q postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
      step="create database $db"
      out="$("${sql[@]}" --db "$db" create 2>&1)" || fail "temporal-sql-tool create: $(why "$out")"
    fi
    if [ "$(psql_q "$db" "SELECT to_regclass('schema_version') IS NOT NULL")" != t ]; then
      step="setup-schema $db"
      out="$("${sql[@]}" --db "$db" setup-schema -v 0.0 2>&1)" || fail "temporal-sql-tool setup-schema: $(why "$out")"
    fi
    step="update-schema $db ($schema)"
    out="$("${sql[@]}" --db "$db" update-schema --schema-name "$schema" 2>&1)" ||
      fail "temporal-sql-tool update-schema: $(why "$out")"
  done
  say "schemas up to date ($(psql_q temporal 'SELECT curr_version FROM schema_version') / $(psql_q temporal_visibility 'SELECT curr_version FROM schema_version'))"
}

server_env() { # the server's environment-only configuration (its embedded config template)
  local b="$CLUSTER_PORT"
  SERVER_ENV=(DB=postgres12 POSTGRES_SEEDS="$host" DB_PORT="$CLUSTER_PG_PORT" POSTGRES_USER=temporal
    POSTGRES_PWD="$(pg_password)" BIND_ON_IP="$host" NUM_HISTORY_SHARDS="$CLUSTER_HISTORY_SHARDS"
    LOG_LEVEL="${CLUSTER_LOG_LEVEL:-warn}"
    FRONTEND_GRPC_PORT="$b" HISTORY_GRPC_PORT=$((b + 1)) MATCHING_GRPC_PORT=$((b + 2)) WORKER_GRPC_PORT=$((b + 6))
    FRONTEND_HTTP_PORT=$((b + 10)) FRONTEND_MEMBERSHIP_PORT=$((b - 300)) HISTORY_MEMBERSHIP_PORT=$((b - 299))
    MATCHING_MEMBERSHIP_PORT=$((b - 298)) WORKER_MEMBERSHIP_PORT=$((b - 294))
    DYNAMIC_CONFIG_FILE_PATH="${CLUSTER_DYNAMIC_CONFIG:-$root/temporal-docker/dynamicconfig/development.yaml}")
  if [ -n "${CLUSTER_PROMETHEUS_ENDPOINT:-}" ]; then SERVER_ENV+=(PROMETHEUS_ENDPOINT="$CLUSTER_PROMETHEUS_ENDPOINT"); fi
}

check_ports_free() { # check_ports_free <what> <port>...
  local what="$1" p
  shift
  for p in "$@"; do
    port_in_use "$p" && fail "port $p ($what; derived from CLUSTER_PORT=$CLUSTER_PORT) is already in use"
  done
  return 0
}

start_server() {
  local b="$CLUSTER_PORT"
  server_env
  step="start the history service"
  if pid_of history >/dev/null; then
    say "history already running"
  else
    check_ports_free "history" $((b + 1)) $((b - 299))
    spawn history "$TEMPORAL_SERVER_BIN" env "${SERVER_ENV[@]}" "$TEMPORAL_SERVER_BIN" --allow-no-auth start --service history
    wait_for history 60 port_in_use $((b + 1))
    say "history up (gRPC $host:$((b + 1)))"
  fi
  step="start the frontend, matching and worker services"
  if pid_of frontend >/dev/null; then
    say "frontend+matching+worker already running"
  else
    check_ports_free "frontend, matching, worker" "$b" $((b + 2)) $((b + 6)) $((b + 10)) $((b - 300)) $((b - 298)) $((b - 294))
    spawn frontend "$TEMPORAL_SERVER_BIN" env "${SERVER_ENV[@]}" "$TEMPORAL_SERVER_BIN" --allow-no-auth start --service frontend --service matching --service worker
    step="wait for the cluster to report SERVING"
    wait_for frontend 90 "$TEMPORAL_CLI" operator cluster health --address "$host:$b"
    say "frontend+matching+worker up (gRPC $host:$b)"
  fi
}

setup_namespace() {
  step="create namespace $CLUSTER_NAMESPACE and search attributes"
  local out
  out="$(cd "$root" && node --import tsx scripts/cluster-namespace.ts \
    --address "$host:$CLUSTER_PORT" --namespace "$CLUSTER_NAMESPACE" --retention "$CLUSTER_RETENTION" 2>&1)" ||
    fail "$out"
  say "$out"
}

start_ui() {
  [ "$CLUSTER_UI" = 0 ] && return 0
  step="start the Web UI"
  if pid_of ui >/dev/null; then
    say "ui already running (http://$host:$CLUSTER_UI_PORT)"
    return 0
  fi
  port_in_use "$CLUSTER_UI_PORT" && fail "port $CLUSTER_UI_PORT (CLUSTER_UI_PORT, Web UI) is already in use"
  # The UI server's `docker` environment is a template over TEMPORAL_* variables; its config folder is
  # read from the ui-server module (TEMPORAL_UI_SERVER_ROOT).
  spawn ui "$TEMPORAL_UI_SERVER_BIN" env TEMPORAL_ADDRESS="$host:$CLUSTER_PORT" TEMPORAL_UI_PORT="$CLUSTER_UI_PORT" \
    TEMPORAL_DEFAULT_NAMESPACE="$CLUSTER_NAMESPACE" TEMPORAL_NOTIFY_ON_NEW_VERSION=false \
    TEMPORAL_CORS_ORIGINS="http://$host:$CLUSTER_UI_PORT" \
    "$TEMPORAL_UI_SERVER_BIN" --root "$TEMPORAL_UI_SERVER_ROOT" --env docker start
  wait_for ui 30 port_in_use "$CLUSTER_UI_PORT"
  say "ui up (http://$host:$CLUSTER_UI_PORT)"
}

print_env() {
  echo "TEMPORAL_ADDRESS=$host:$CLUSTER_PORT"
  echo "TEMPORAL_NAMESPACE=$CLUSTER_NAMESPACE"
  [ "${CLUSTER_UI:-1}" = 0 ] || echo "TEMPORAL_UI_URL=http://$host:$CLUSTER_UI_PORT"
}

# --- commands ------------------------------------------------------------------------------------------
case "$cmd" in
  start)
    t0=$SECONDS
    configure
    ensure_postgres_installed
    ensure_binaries
    save_state
    start_postgres
    setup_schemas
    start_server
    setup_namespace
    start_ui
    step="done"
    say "up in $((SECONDS - t0))s: Temporal $host:$CLUSTER_PORT (namespace $CLUSTER_NAMESPACE), history and frontend+matching+worker as separate processes, PostgreSQL $host:$CLUSTER_PG_PORT$([ "$CLUSTER_UI" = 0 ] || echo ", Web UI http://$host:$CLUSTER_UI_PORT")"
    print_env
    ;;
  stop)
    load_state
    find_pg_bin || true
    for c in ui frontend history postgres; do stop_component "$c"; done
    say "stopped (data kept in ${dir#"$root"/}; 'reset' deletes it)"
    ;;
  status)
    load_state
    [ -f "$state" ] || { say "no cluster in ${dir#"$root"/} (run: npm run cluster:start)"; exit 1; }
    rc=0
    for c in "${components[@]}"; do
      if pid="$(pid_of "$c")"; then echo "$c: running (pid $pid)"; else echo "$c: stopped"; [ "$c" = ui ] || rc=1; fi
    done
    print_env
    exit $rc
    ;;
  env)
    load_state
    [ -f "$state" ] || { say "no cluster in ${dir#"$root"/} (run: npm run cluster:start)"; exit 1; }
    print_env
    ;;
  reset)
    load_state
    find_pg_bin || true
    for c in ui frontend history postgres; do stop_component "$c"; done
    rm -rf "$dir"
    say "deleted ${dir#"$root"/}"
    ;;
  *)
    echo "usage: scripts/cluster.sh start|stop|status|env|reset" >&2
    exit 2
    ;;
esac
