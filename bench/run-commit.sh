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
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup bench/run-commit.sh tugboat,docker
node --import tsx bench/commit.ts
