#!/usr/bin/env bash
# The main job on a fresh machine, as root: set up, start tugd, make the base images, and show
# tugboat at work (hello-world, a detached container, the container list).
# Safe to run again: a tugd already answering on the default socket is reused.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

SOCK=/run/tugboat/tugboat.sock
LOG=/var/log/tugd.log
DASHBOARD_PORT=${DASHBOARD_PORT:-9000}

log() { printf '[main] %s\n' "$*" >&2; }

bash scripts/setup.sh

# `tug` and `tugd` on PATH, pointing at this checkout's bundles.
for bin in tug tugd; do
  ln -sfn "$repo/dist/$bin.js" "/usr/local/bin/$bin"
done

ping_tugd() {
  node -e '
    const req = require("http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 2000 },
      (r) => process.exit(r.statusCode === 200 ? 0 : 1));
    req.on("error", () => process.exit(1));
    req.on("timeout", () => process.exit(1));' "$SOCK" 2>/dev/null
}

if ping_tugd; then
  log "tugd is already running on $SOCK"
else
  log "starting tugd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  # setsid + nohup: tugd keeps running after this script and its terminal are gone.
  # the web dashboard on loopback (`tug dashboard` prints its login link), unless something else has the port
  dashboard=(--dashboard "127.0.0.1:$DASHBOARD_PORT")
  if (exec 3<>"/dev/tcp/127.0.0.1/$DASHBOARD_PORT") 2>/dev/null; then
    log "port $DASHBOARD_PORT is taken: tugd starts without its dashboard"
    dashboard=()
  fi
  setsid nohup node "$repo/dist/tugd.js" -H "unix://$SOCK" "${dashboard[@]}" >>"$LOG" 2>&1 </dev/null &
  tugd_pid=$!
  for _ in $(seq 1 150); do
    if ping_tugd; then break; fi
    if ! kill -0 "$tugd_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  if ! ping_tugd; then
    log "tugd did not answer on $SOCK; last lines of $LOG:"
    tail -n 30 "$LOG" >&2 || true
    exit 1
  fi
  log "tugd is up (pid $tugd_pid)"
fi

bash scripts/make-images.sh -H "unix://$SOCK"

tug() { node "$repo/dist/tug.js" -H "unix://$SOCK" "$@"; }

log "tug run --rm hello-world"
tug run --rm hello-world

# The demo container is made anew on every run, so that its name is free.
tug rm -f demo >/dev/null 2>&1 || true
log "tug run -d --name demo busybox sleep 3600"
tug run -d --name demo busybox sleep 3600

log "tug ps"
tug ps

if url=$(tug dashboard 2>/dev/null); then
  log "the web dashboard: $url"
fi
