#!/usr/bin/env bash
# Installs the engines tugboat is compared with (Debian's docker.io and podman) and starts
# dockerd by hand when it is not running: there is no systemd on these machines.
# Idempotent; run as root. Used only by the benchmark, never by tugboat itself.
set -euo pipefail

DOCKERD_SOCK=${DOCKERD_SOCK:-/var/run/docker.sock}
DOCKERD_ROOT=${DOCKERD_ROOT:-/var/lib/docker}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}

log() { printf '[bench/install] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root"
  exit 1
fi

missing=()
for pkg in docker.io podman containerd runc crun conmon iptables busybox-static procps debootstrap docker-registry skopeo iperf3; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # iperf3 (bench/run-network.sh) asks whether to start its daemon at boot: no.
  echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections
  apt-get update -qq
  # No init system: keep package scripts from trying to start services.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  status=0
  apt-get install -y -qq -o Dpkg::Options::=--force-confold "${missing[@]}" || status=$?
  if ((created_policy)); then rm -f "$policy"; fi
  if ((status)); then
    log "apt-get install failed ($status)"
    exit "$status"
  fi
fi

docker_cli() {
  if [[ -x /usr/local/bin/docker ]]; then echo /usr/local/bin/docker; else command -v docker; fi
}

dockerd_up() {
  [[ -S $DOCKERD_SOCK ]] && DOCKER_HOST="unix://$DOCKERD_SOCK" "$(docker_cli)" version >/dev/null 2>&1
}

if dockerd_up; then
  log "dockerd already running on $DOCKERD_SOCK"
else
  log "starting dockerd (data root $DOCKERD_ROOT, log $DOCKERD_LOG)"
  rm -f "$DOCKERD_SOCK"
  mkdir -p "$DOCKERD_ROOT"
  # setsid: the daemon outlives this script and its terminal; it starts its own containerd.
  setsid nohup /usr/sbin/dockerd --data-root "$DOCKERD_ROOT" -H "unix://$DOCKERD_SOCK" \
    >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if dockerd_up; then break; fi
    sleep 0.5
  done
  if ! dockerd_up; then
    log "dockerd did not come up; last lines of $DOCKERD_LOG:"
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  log "dockerd is up"
fi

log "podman $(podman --version 2>/dev/null | awk '{print $3}'), docker $(DOCKER_HOST="unix://$DOCKERD_SOCK" "$(docker_cli)" version -f '{{.Server.Version}}' 2>/dev/null)"
