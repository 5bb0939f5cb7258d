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
#   TMPDIR=/var/tmp         where the contexts and the benchmark tugd's data root go (bench/lib.sh's default): file
#                           creation is much slower next to a tree that other jobs keep deleting from (ext4 without a
#                           journal)
# The nginx builds download from deb.debian.org. The Debian base is debootstrap'd once and cached as
# /var/cache/tugboat-test/bookworm-minbase.tar (as the tests do). Its tugd uses the bridge tugbenchbd0,
# removed with its iptables rules at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup bench/run-build.sh tugboat,docker,podman
TUGBENCH_OWN_DOCKERD=$BENCH_OWN_DOCKERD node --import tsx bench/build.ts
