#!/usr/bin/env bash
# Everything CI checks: set the machine up, then typecheck, lint, unit and integration tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
npm test
