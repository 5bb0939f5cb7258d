#!/usr/bin/env bash
# commit side by side, tugboat against docker: see bench/commit.ts for what it measures.
# Starts dockerd through bench/install.sh when it is not running, and stops it again at the end only then.
#   BENCH_N=5                 rounds per engine (interleaved)
#   BENCH_COMMIT_MB=100       MiB of new data in the committed container
#   BENCH_COMMIT_FILES=100    files the data is spread over
#   BENCH_ENGINES=tugboat,docker   (podman too, if asked)
#   BENCH_JSON=FILE           also write the raw numbers as JSON
#   BENCH_TUGD_ARGS=..., BENCH_TUGD_BIN=PATH, BENCH_TUG="CMD ARGS", BENCH_KEEP_LOG=1   as for bench/run.sh
# Its tugd uses the bridge tugbenchcm0, removed with its iptables rules at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run-commit.sh: must run as root" >&2
  exit 1
fi
DOCKERD_SOCK=${DOCKERD_SOCK:-/var/run/docker.sock}
docker_cli() { if [[ -x /usr/local/bin/docker ]]; then echo /usr/local/bin/docker; else command -v docker; fi; }
dockerd_up() { [[ -S $DOCKERD_SOCK ]] && DOCKER_HOST="unix://$DOCKERD_SOCK" "$(docker_cli)" version >/dev/null 2>&1; }

started_dockerd=0
if [[ ${BENCH_ENGINES:-tugboat,docker} == *docker* ]] && ! dockerd_up; then
  bash bench/install.sh
  started_dockerd=1
fi
stop_dockerd() {
  ((started_dockerd)) || return 0
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -n $pid ]]; then
    echo "bench/run-commit.sh: stopping the dockerd it started (pid $pid)" >&2
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
}
trap stop_dockerd EXIT

if [[ ! -d node_modules/tsx ]]; then npm ci --no-audit --no-fund; fi
# Always rebuild (under a second): measure the code of this checkout, not an older bundle.
if ! npm run --silent build >&2; then
  echo "bench/run-commit.sh: build failed; tugboat will be reported as unavailable" >&2
fi
node --import tsx bench/commit.ts
