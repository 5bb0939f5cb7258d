#!/usr/bin/env bash
# Side-by-side benchmark of tugboat, docker and podman: see bench/bench.ts for what it measures.
# Run `bash bench/install.sh` first (docker.io, podman, dockerd started by hand).
#   BENCH_N=20           runs of `run --rm busybox true` per client
#   BENCH_DETACHED=100   detached `sleep 1000` containers per engine
#   BENCH_ENGINES=tugboat,docker,podman
#   BENCH_JSON=FILE      also write the raw numbers as JSON
#   BENCH_TUGD_ARGS=...  extra flags for the benchmark's own tugd
#   BENCH_TUGD_BIN=PATH, BENCH_TUG="CMD ARGS"  another tugd / tug than dist/ (default: this checkout)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_prepare bench/run.sh
exec node --import tsx bench/bench.ts
