#!/usr/bin/env bash
# Pull and push of a ~330 MB multi-layer image through a loopback registry, tugboat side by side with docker
# and podman: see bench/registry.ts. Starts dockerd through bench/install.sh when it is not running (and stops it
# again at the end only then).
#   BENCH_RUNS=3         pulls and pushes per client
#   BENCH_IMAGE_MB=330   about how many MB of files the image has
#   BENCH_ENGINES=tugboat,docker,podman
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup bench/run-registry.sh tugboat,docker,podman
node --import tsx bench/registry.ts
