#!/bin/sh
# Creates the namespace when it is missing (retention TEMPORAL_RETENTION, default 168h) and registers
# the coordinator's custom search attributes (src/workflows/search-attributes.ts) in it. Idempotent: an attribute that already exists as a Keyword is left alone; one that exists
# with another type is an error (the workflows would fail to start with it).
#
# Connection settings come from Temporal's own environment variables, which the `temporal` CLI reads:
# TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default"), and for a
# secured cluster TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, ...
# Used as the one-shot `temporal-admin-tools` job of docker-compose.yml, and by hand against any
# self-hosted cluster:  TEMPORAL_ADDRESS=host:7233 sh temporal-docker/scripts/register-search-attributes.sh
# (Temporal Cloud does not accept this: add search attributes there with tcld or the Cloud UI.)
set -eu

: "${TEMPORAL_ADDRESS:=127.0.0.1:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
export TEMPORAL_ADDRESS TEMPORAL_NAMESPACE
MAX_ATTEMPTS="${MAX_ATTEMPTS:-60}"
SLEEP_SECONDS="${SLEEP_SECONDS:-5}"

# Keep in step with src/workflows/search-attributes.ts (all are Keyword).
ATTRIBUTES="IntegrationFlow BusinessKey IntegrationStep SalesforceId SapCustomerNumber SapOrderNumber IdempotencyKey"

echo "search attributes: waiting for the server at ${TEMPORAL_ADDRESS}..."
attempt=1
until temporal operator cluster health >/dev/null 2>&1; do
  if [ "${attempt}" -ge "${MAX_ATTEMPTS}" ]; then
    echo "search attributes: no Temporal server at ${TEMPORAL_ADDRESS} after ${MAX_ATTEMPTS} attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "${SLEEP_SECONDS}"
done
if ! temporal operator namespace describe --namespace "${TEMPORAL_NAMESPACE}" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "${TEMPORAL_NAMESPACE}" --retention "${TEMPORAL_RETENTION:-168h}"
  echo "search attributes: namespace '${TEMPORAL_NAMESPACE}' created"
fi
attempt=1
until temporal operator namespace describe --namespace "${TEMPORAL_NAMESPACE}" >/dev/null 2>&1; do
  if [ "${attempt}" -ge "${MAX_ATTEMPTS}" ]; then
    echo "search attributes: namespace '${TEMPORAL_NAMESPACE}' not reachable after ${MAX_ATTEMPTS} attempts" >&2
    temporal operator namespace describe --namespace "${TEMPORAL_NAMESPACE}" >&2 || true
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "${SLEEP_SECONDS}"
done

failed=0
for name in ${ATTRIBUTES}; do
  if output=$(temporal operator search-attribute create --namespace "${TEMPORAL_NAMESPACE}" \
    --name "${name}" --type Keyword 2>&1); then
    echo "search attributes: ${name} (Keyword) registered"
  elif printf '%s' "${output}" | grep -qi 'already exists'; then
    echo "search attributes: ${name} already exists"
  else
    echo "search attributes: creating ${name} failed: ${output}" >&2
    failed=1
  fi
done

# Check the result: every attribute listed, and as a Keyword.
listing=$(temporal operator search-attribute list --namespace "${TEMPORAL_NAMESPACE}" 2>&1) || {
  echo "search attributes: listing failed: ${listing}" >&2
  exit 1
}
for name in ${ATTRIBUTES}; do
  line=$(printf '%s\n' "${listing}" | grep -E "(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)" || true)
  if [ -z "${line}" ]; then
    echo "search attributes: ${name} is missing after registration" >&2
    failed=1
  elif ! printf '%s' "${line}" | grep -Eqi 'keyword([^l]|$)'; then
    echo "search attributes: ${name} exists with another type (${line}); it must be Keyword" >&2
    failed=1
  fi
done

if [ "${failed}" -ne 0 ]; then
  exit 1
fi
echo "search attributes: all present in namespace '${TEMPORAL_NAMESPACE}'"
