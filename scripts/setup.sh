#!/usr/bin/env bash
# Prepares a Debian 12 machine (root, Node 20 and npm already there) to build, test and run
# tugboat: the host tools tugd drives, the npm dependencies, the dist/ bundles.
# Idempotent and quiet when there is nothing to do: apt-get runs only for missing packages,
# npm ci only when node_modules does not match package-lock.json. Safe with CI=true, no stdin.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Host packages, and why tugd needs each:
#   runc, crun                      OCI runtimes (runc is the default, crun with --runtime crun)
#   conmon                          supervises each container: stdio, log, exit code
#   iptables                        NAT and port publishing for the CNI bridge
#   containernetworking-plugins     CNI bridge, host-local, portmap, firewall, loopback
#   busybox-static                  the local busybox and hello-world images (scripts/make-images.sh)
#   tini                            /usr/bin/tini-static, bind-mounted for `run --init`
#   tmux                            interactive (-it) tests drive a real terminal
#   procps                          ps, pgrep, pkill for tests and `top`
#   docker-registry, apache2-utils, skopeo, debootstrap
#                                   registry tests: a real registry on loopback, htpasswd, a second client
#   iperf3                          UDP through published ports (busybox has no UDP server) in the network tests
#   docker-compose                  build tests: `docker-compose build` (1.29, python) against tugd
#   python3-docker                  client tests: the Python docker SDK against tugd
#   chromium                        dashboard tests: a headless browser driven by playwright-core
#   docker.io                       archive tests: a real dockerd of the test's own (no bridge, no iptables) loads
#                                   what tugd saves and the reverse; its service is never started here
packages=(runc crun conmon iptables containernetworking-plugins busybox-static tini tmux procps docker-registry apache2-utils skopeo debootstrap iperf3 docker-compose docker.io chromium python3-docker)
no_recommends=(docker-compose chromium)

[[ $(id -u) -eq 0 ]] || die "run as root (it installs Debian packages)"
command -v node >/dev/null || die "node is missing: Node.js 20 or newer is required"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js $(node --version) is too old: 20 or newer is required"

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # iperf3 asks whether to start its daemon at boot: no
  echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  apt-get "${apt_opts[@]}" update -qq </dev/null
  plain=() lean=()
  for pkg in "${missing[@]}"; do
    if [[ " ${no_recommends[*]} " == *" $pkg "* ]]; then lean+=("$pkg"); else plain+=("$pkg"); fi
  done
  # no service a package brings (docker.io's dockerd, containerd) is started: policy-rc.d refuses them all
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1; fi
  status=0
  if ((${#plain[@]})); then apt-get "${apt_opts[@]}" install -y -qq "${plain[@]}" </dev/null >/dev/null || status=$?; fi
  if ((${#lean[@]} && !status)); then apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${lean[@]}" </dev/null >/dev/null || status=$?; fi
  if ((own_policy)); then rm -f "$policy"; fi
  ((status == 0)) || die "apt-get install failed ($status)"
fi

# A hybrid cgroup host (v1 hierarchies on a tmpfs, cgroup2 beside them) that left some controller on the cgroup2
# mount, as hugetlb is on some VMs: crun refuses that layout ("cgroups in hybrid mode not supported"). Mount such
# controllers as v1 hierarchies of their own, as Debian's cgroupfs-mount does for every controller; runc works
# either way. Nothing to do on pure v1 or pure v2 hosts.
unified=/sys/fs/cgroup/unified
if [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == tmpfs && -r $unified/cgroup.controllers ]]; then
  for ctl in $(cat "$unified/cgroup.controllers"); do
    [[ -d /sys/fs/cgroup/$ctl ]] && mountpoint -q "/sys/fs/cgroup/$ctl" && continue
    mkdir -p "/sys/fs/cgroup/$ctl"
    if mount -t cgroup -o "$ctl" cgroup "/sys/fs/cgroup/$ctl" 2>/dev/null; then
      log "mounted the $ctl cgroup controller as a v1 hierarchy (crun needs the hybrid layout's controllers on v1)"
    else
      rmdir "/sys/fs/cgroup/$ctl" 2>/dev/null || true
      log "warning: could not mount the $ctl cgroup controller as v1: --runtime crun will not work on this host"
    fi
  done
fi

[[ -x /usr/bin/tini-static ]] || log "warning: /usr/bin/tini-static is missing: run --init will not work"
[[ -x /usr/bin/busybox ]] || die "/usr/bin/busybox is missing after installing busybox-static"

# npm dependencies: reinstall when package-lock.json, package.json or node changed since the
# last successful install (a stamp inside node_modules records what it was made from).
stamp=node_modules/.tugboat-setup-stamp
want=$( { cat package-lock.json package.json; node --version; } | sha256sum | cut -d' ' -f1)
if [[ ! -d node_modules || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error </dev/null
  printf '%s\n' "$want" >"$stamp"
fi

log "npm run build"
npm run --silent build </dev/null
log "ready"
