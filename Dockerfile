# syntax=docker/dockerfile:1
# One image for every process of the coordinator: the worker (default), the API and the simulators
# differ only by their command (`npm run worker` | `npm run api` | `npm run simulators`).
#   docker build -t integration-coordinator .
#   docker run --env-file .env integration-coordinator                       # worker
#   docker run --env-file .env -p 3000:3000 integration-coordinator npm run api
# temporal-docker/docker-compose.yml builds and runs it next to a Temporal server; see docs/deployment.md.

# Debian (glibc), not Alpine (musl):
# - @swc/core, which the worker uses at start-up to bundle the workflow code (webpack + swc-loader),
#   loads a prebuilt native binding from a platform package that npm installs as an optional
#   dependency (@swc/core-linux-x64-gnu / -linux-arm64-gnu, both in package-lock.json). If the binding
#   is missing there is no WASM fallback and bundling fails with "Bindings not found".
# - @temporalio/core-bridge ships prebuilt native modules for *-unknown-linux-gnu only (no musl).
# Node 24 LTS (Node 20 reached end of life in April 2026); CI runs the suite on Node 24 and Node 20.
# jsforce stays at 3.10.16 while Node 20 must install the same lock file (docs/deployment.md).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app

# ---- deps: install exactly what package-lock.json says ------------------------------------------
FROM base AS deps
COPY package.json package-lock.json .npmrc ./
# Dev dependencies are installed on purpose (no --omit=dev): the processes run TypeScript directly
# through tsx, which is a devDependency, and there is no separate compile step. NODE_ENV is not yet
# "production" in this stage, which would make npm ci skip them. Optional dependencies must stay in
# (no --omit=optional): the swc native binding for this platform is one. Install scripts run as npm
# decides (protobufjs, @swc/core, core-js); the check after `npm ci` fails the build if swc's native
# binding did not install.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --no-audit --no-fund \
 && node -e "require('@swc/core'); require('jsforce'); console.log('swc native binding, jsforce: ok')"

# ---- runtime ----------------------------------------------------------------------------------------
FROM base AS runtime
# CA certificates for TLS made outside Node's own CA bundle (Temporal Cloud / mTLS through the
# Rust core of @temporalio/worker and @temporalio/client).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# MALLOC_ARENA_MAX=2: fewer malloc arenas for the worker's many threads, about 45 MB less resident
# memory with 1,000 flows in flight (docs/benchmarks.md); override with -e MALLOC_ARENA_MAX=...
# The worker's main-thread heap (WORKER_MAIN_SEMI_SPACE_MB, a node flag) needs nothing here: started
# without the flag, the worker restarts itself in place with it (Node 24 has process.execve).
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
# Sources, the SAP WSDL and scripts (see .dockerignore for what stays out). Files stay owned by root
# and read-only for the process; tsx keeps its transform cache in /tmp.
COPY . .
# Unprivileged user that ships with the node images (uid 1000).
USER node
# API (npm run api); the simulators use 4010/4020/4030/4040/4050.
EXPOSE 3000
CMD ["npm", "run", "worker"]
