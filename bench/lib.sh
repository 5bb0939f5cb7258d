# Shared start of the bench/run-*.sh scripts (sourced): root check, dockerd started through bench/install.sh when
# it is needed and not running (and stopped again at exit, with the FORWARD policy it changed put back), npm
# dependencies, a fresh build. Sets BENCH_OWN_DOCKERD=1 when it started dockerd.
#   bench_setup NAME DEFAULT_ENGINES
bench_setup() {
  bench_prepare "$1"
  local engines=${BENCH_ENGINES:-$2}
  DOCKERD_SOCK=${DOCKERD_SOCK:-/var/run/docker.sock}
  BENCH_OWN_DOCKERD=0
  BENCH_FORWARD_POLICY=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }')
  if [[ $engines == *docker* ]] && ! bench_dockerd_up; then
    bash bench/install.sh
    BENCH_OWN_DOCKERD=1
  fi
  trap bench_stop_dockerd EXIT
}

# Root check, npm dependencies and a fresh build only (for the scripts that leave dockerd to bench/install.sh).
#   bench_prepare NAME
bench_prepare() {
  BENCH_SCRIPT=$1
  # The benchmark's tugd keeps its data root (and the work files) beside dockerd's and podman's, under /var, not in
  # /tmp, where test runs keep deleting trees: on an ext4 without a journal, creating a file skips every inode
  # deleted in the last moments, and a pull in /tmp spends a quarter of its CPU doing so.
  export TMPDIR=${TMPDIR:-/var/tmp}
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  if [[ $(id -u) -ne 0 ]]; then
    echo "$BENCH_SCRIPT: must run as root" >&2
    exit 1
  fi
  if [[ ! -d node_modules/tsx ]]; then npm ci --no-audit --no-fund; fi
  # Always rebuild (under a second): measure the code of this checkout, not an older bundle.
  if ! npm run --silent build >&2; then
    echo "$BENCH_SCRIPT: build failed; tugboat will be reported as unavailable" >&2
  fi
}

bench_docker_cli() { if [[ -x /usr/local/bin/docker ]]; then echo /usr/local/bin/docker; else command -v docker; fi; }
bench_dockerd_up() { [[ -S $DOCKERD_SOCK ]] && DOCKER_HOST="unix://$DOCKERD_SOCK" "$(bench_docker_cli)" version >/dev/null 2>&1; }

bench_stop_dockerd() {
  ((BENCH_OWN_DOCKERD)) || return 0
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if [[ -n $pid ]]; then
    echo "$BENCH_SCRIPT: stopping the dockerd it started (pid $pid)" >&2
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  if [[ -n $BENCH_FORWARD_POLICY ]]; then iptables -P FORWARD "$BENCH_FORWARD_POLICY" || true; fi
}
