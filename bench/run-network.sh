#!/usr/bin/env bash
# Networking side by side, tugboat against docker and podman: see bench/network.ts for what it measures.
# Run `bash bench/install.sh` first (docker.io, podman, iperf3, dockerd started by hand).
#   BENCH_N=10             runs of `run --rm busybox true` per engine, on the default network and with --network none
#   BENCH_IPERF_SECONDS=5  length of each iperf3 test through a published port (0 skips the throughput part)
#   BENCH_IPERF_RUNS=1     iperf3 tests per engine and address (median)
#   BENCH_PORT=25201       first host port to publish (the next free ones are used)
#   BENCH_HOST_ADDR=IP     the "primary address" to publish on and connect to (default: source of the default route)
#   BENCH_SCALE=0          containers to start on a user-defined network and resolve by name (0 skips; e.g. 1000)
#   BENCH_SCALE_BATCH=10   how many `run -d` at once in that part
#   BENCH_ENGINES=tugboat,docker,podman
#   BENCH_JSON=FILE        also write the raw numbers as JSON
#   BENCH_TUGD_ARGS=..., BENCH_TUGD_BIN=PATH, BENCH_TUG="CMD ARGS", BENCH_KEEP_LOG=1   as for bench/run.sh
# Its tugd uses the bridge tugbenchnet0, removed with its iptables rules at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if ! command -v iperf3 >/dev/null; then
  echo "bench/run-network.sh: iperf3 is missing: run bash bench/install.sh" >&2
  exit 1
fi
bench_prepare bench/run-network.sh
exec node --import tsx bench/network.ts
