#!/usr/bin/env bash
# Dockerfile builds side by side, tugboat against docker's legacy builder, BuildKit and podman: see bench/build.ts
# for what it measures. Starts dockerd through bench/install.sh when it is not running, and stops it again at the
# end only then (putting back the FORWARD policy dockerd changed).
#   BENCH_RUNS=3            cold (--no-cache) builds of the nginx Dockerfile per client (median)
#   BENCH_CACHED_RUNS=10    fully cached rebuilds per client
#   BENCH_CHANGE_RUNS=5     builds with index.html changed, per client
#   BENCH_CTX_RUNS=5        builds of the big context per client, one file changed, then as many fully cached
#   BENCH_CTX_FILES=20000   small files in the big context's src/
#   BENCH_CTX_IGNORED=30000 files in its node_modules/, excluded by .dockerignore
#   BENCH_BUILDKIT_CLI=/usr/bin/docker   the client with BuildKit built in (Debian's docker 20.10 CLI)
#   BENCH_ENGINES=tugboat,docker,podman
#   BENCH_JSON=FILE         also write the raw numbers as JSON
#   BENCH_TUGD_ARGS=..., BENCH_TUGD_BIN=PATH, BENCH_TUG="CMD ARGS", BENCH_KEEP_LOG=1   as for bench/run.sh
#   TMPDIR=/var/tmp         where the contexts and the benchmark tugd's data root go (default /tmp): file creation
#                           is much slower next to a tree that other jobs keep deleting from (ext4 without a journal)
# The nginx builds download from deb.debian.org. The Debian base is debootstrap'd once and cached as
# /var/cache/tugboat-test/bookworm-minbase.tar (as the tests do). Its tugd uses the bridge tugbenchbd0,
# removed with its iptables rules at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run-build.sh: must run as root" >&2
  exit 1
fi
DOCKERD_SOCK=${DOCKERD_SOCK:-/var/run/docker.sock}
docker_cli() { if [[ -x /usr/local/bin/docker ]]; then echo /usr/local/bin/docker; else command -v docker; fi; }
dockerd_up() { [[ -S $DOCKERD_SOCK ]] && DOCKER_HOST="unix://$DOCKERD_SOCK" "$(docker_cli)" version >/dev/null 2>&1; }

started_dockerd=0
forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }')
if [[ ${BENCH_ENGINES:-tugboat,docker,podman} == *docker* ]] && ! dockerd_up; then
  bash bench/install.sh
  started_dockerd=1
fi
stop_dockerd() {
  ((started_dockerd)) || return 0
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -n $pid ]]; then
    echo "bench/run-build.sh: stopping the dockerd it started (pid $pid)" >&2
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  if [[ -n $forward_policy ]]; then iptables -P FORWARD "$forward_policy" || true; fi
}
trap stop_dockerd EXIT

if [[ ! -d node_modules/tsx ]]; then npm ci --no-audit --no-fund; fi
# Always rebuild (under a second): measure the code of this checkout, not an older bundle.
if ! npm run --silent build >&2; then
  echo "bench/run-build.sh: build failed; tugboat will be reported as unavailable" >&2
fi
TUGBENCH_OWN_DOCKERD=$started_dockerd node --import tsx bench/build.ts
