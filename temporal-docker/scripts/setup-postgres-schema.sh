#!/bin/sh
# Creates the Temporal server's two PostgreSQL databases and brings their schemas to the version the
# server image expects, with temporal-sql-tool (in temporalio/admin-tools; its schemas are embedded).
# Idempotent: an existing database is kept, setup-schema leaves a versioned schema alone and
# update-schema applies only the missing versions. The same steps as scripts/cluster.sh.
# Connection: SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (read by temporal-sql-tool itself).
set -eu

sql() { temporal-sql-tool --plugin postgres12 "$@"; }

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) schema=postgresql/v12/temporal ;;
    *) schema=postgresql/v12/visibility ;;
  esac
  if out=$(sql --db "$db" create 2>&1); then
    echo "schema: database $db created"
  elif printf '%s' "$out" | grep -qi 'already exists'; then
    echo "schema: database $db exists"
  else
    echo "schema: creating database $db failed: $out" >&2
    exit 1
  fi
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema --schema-name "$schema"
  echo "schema: $db is at the server's version ($schema)"
done
