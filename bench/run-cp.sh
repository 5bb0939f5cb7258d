#!/usr/bin/env bash
# docker cp out of a container, tugboat against docker: see bench/cp.ts for what it measures.
# Run `bash bench/install.sh` first (docker.io, dockerd started by hand).
#   BENCH_CP_MB=1024       size of the tree made in the container (MB)
#   BENCH_CP_RUNS=3        copies per client (median), interleaved
#   BENCH_CP_DEST=tmpfs    where the copies land: tmpfs (the engines, not the disk) or disk
#   BENCH_ENGINES=tugboat,docker
#   BENCH_JSON=FILE        also write the raw numbers as JSON
#   BENCH_TUGD_ARGS=..., BENCH_TUGD_BIN=PATH, BENCH_TUG="CMD ARGS", BENCH_KEEP_LOG=1   as for bench/run.sh
# Its tugd uses the bridge tugbenchcp0, removed with its iptables rules at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_prepare bench/run-cp.sh
exec node --import tsx bench/cp.ts
