#!/usr/bin/env bash
# Pull and push of a ~330 MB multi-layer image through a loopback registry, tugboat side by side with docker
# and podman: see bench/registry.ts. Run `bash bench/install.sh` first.
#   BENCH_RUNS=3         pulls and pushes per client
#   BENCH_IMAGE_MB=330   about how many MB of files the image has
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run-registry.sh: must run as root" >&2
  exit 1
fi
if [[ ! -d node_modules/tsx ]]; then npm ci --no-audit --no-fund; fi
npm run --silent build >&2
exec node --import tsx bench/registry.ts
