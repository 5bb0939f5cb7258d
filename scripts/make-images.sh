#!/usr/bin/env bash
# Makes tugboat's two local base images from the host's static busybox, with `tug import`:
#   busybox:latest      /bin/busybox, a symlink in /bin for every applet, a minimal /etc; CMD ["sh"]
#   hello-world:latest  one static binary and a script that explains what just happened
# No registry is involved. An image that already exists is skipped, so running it again is cheap.
#
# Usage: scripts/make-images.sh [-H unix:///path/to/tugd.sock] [--force]
#        scripts/make-images.sh --tar busybox|hello-world FILE   (write the rootfs tar to FILE, or - for stdout; no daemon needed)
# Environment:
#   TUG      the client command (default: node dist/tug.js of this checkout, else `tug`).
#            A value starting with unix:// or / names the daemon's socket instead.
#   BUSYBOX  the static busybox to copy (default /usr/bin/busybox, from Debian's busybox-static)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BUSYBOX=${BUSYBOX:-/usr/bin/busybox}

log() { printf '[make-images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

host=""
force=0
tar_name=""
tar_out=""
while (($#)); do
  case $1 in
    -H | --host) host=${2:?-H needs a value}; shift 2 ;;
    -H=* | --host=*) host=${1#*=}; shift ;;
    --force) force=1; shift ;;
    --tar) tar_name=${2:?--tar needs an image name}; tar_out=${3:?--tar needs a file}; shift 3 ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done

tug_cmd=()
if [[ ${TUG:-} == unix://* || -S ${TUG:-} ]]; then
  [[ -n $host ]] || host=$TUG
  if [[ $host == /* ]]; then host="unix://$host"; fi
elif [[ -n ${TUG:-} ]]; then
  read -r -a tug_cmd <<<"$TUG"
fi
if ((${#tug_cmd[@]} == 0)); then
  if [[ -f $repo/dist/tug.js ]]; then
    tug_cmd=(node "$repo/dist/tug.js")
  else
    tug_cmd=(tug)
  fi
fi
if [[ -n $host ]]; then tug_cmd+=(-H "$host"); fi

tug() { "${tug_cmd[@]}" "$@"; }

[[ -x $BUSYBOX ]] || die "$BUSYBOX not found: install Debian's busybox-static (scripts/setup.sh does)"
"$BUSYBOX" --list >/dev/null 2>&1 || die "$BUSYBOX does not look like busybox"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tug-images.XXXXXX")
trap 'rm -rf "$workdir"' EXIT

# Tar a rootfs reproducibly: numeric ids, sorted names, fixed times, so the same host busybox
# always gives the same layer digest.
tar_rootfs() {
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$1" -c .
}

build_busybox() {
  local root=$1 applet
  mkdir -p "$root"/{bin,etc,root,home,var,tmp,proc,sys,dev,usr/bin,var/tmp}
  chmod 0700 "$root/root"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  install -m 0755 "$BUSYBOX" "$root/bin/busybox"
  while read -r applet; do
    [[ -z $applet || $applet == busybox || $applet == */* ]] && continue
    ln -s busybox "$root/bin/$applet"
  done < <("$BUSYBOX" --list)
  # `#!/usr/bin/env ...` scripts are common enough to deserve the one link outside /bin.
  ln -s ../../bin/busybox "$root/usr/bin/env"
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:26:
audio:x:29:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
nobody:x:65534:
EOF
  cat >"$root/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
bin:*:19000:0:99999:7:::
sys:*:19000:0:99999:7:::
sync:*:19000:0:99999:7:::
mail:*:19000:0:99999:7:::
www-data:*:19000:0:99999:7:::
operator:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
  chmod 0640 "$root/etc/shadow"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

build_hello() {
  local root=$1
  mkdir -p "$root"/{proc,sys,dev,etc}
  # Busybox runs as a multi-call binary only when its file name starts with "busybox".
  install -m 0755 "$BUSYBOX" "$root/busybox-hello"
  # Only shell builtins below: the image has no PATH to speak of.
  cat >"$root/hello" <<'EOF'
#!/busybox-hello sh
echo '
Hello from tugboat!

If you can read this, your tugboat engine works: it just ran a container.

What happened, step by step:
  1. The tug client sent your "run" request to the tugd daemon over its
     Engine API socket.
  2. tugd found the "hello-world" image in its local image store.
  3. tugd stacked the image layers under a fresh copy-on-write directory
     (overlayfs), wrote an OCI runtime bundle and asked runc to start it,
     with conmon keeping watch over the container.
  4. The container ran this tiny script; conmon captured what it printed
     and tugd streamed it back to your terminal.

Try something bigger:
  tug run -it --rm busybox sh      a shell in a throw-away container
  tug run -d --name web busybox httpd -f -p 8080
  tug ps -a                        what runs, what ran
  tug --help                       everything else
'
EOF
  chmod 0755 "$root/hello"
}

make_tar() { # name file
  local name=$1 out=$2 root="$workdir/$1"
  case $name in
    busybox) build_busybox "$root" ;;
    hello-world) build_hello "$root" ;;
    *) die "no recipe for image '$name' (busybox, hello-world)" ;;
  esac
  if [[ $out == - ]]; then tar_rootfs "$root"; else tar_rootfs "$root" >"$out"; fi
}

if [[ -n $tar_name ]]; then
  make_tar "$tar_name" "$tar_out"
  exit 0
fi

image_exists() { tug image inspect "$1" >/dev/null 2>&1; }

import_image() { # name cmd-json
  local name=$1 cmd=$2 ref="$1:latest"
  if ((!force)) && image_exists "$ref"; then
    log "$ref exists, skipped"
    return 0
  fi
  log "importing $ref"
  make_tar "$name" "$workdir/$name.tar"
  tug import --change "CMD $cmd" - "$ref" <"$workdir/$name.tar" >/dev/null
  image_exists "$ref" || die "$ref is not there after import"
  log "$ref ready"
}

if ! tug version >/dev/null 2>&1; then
  die "cannot reach the daemon with: ${tug_cmd[*]} (is tugd running? pick the socket with -H unix://PATH)"
fi

import_image busybox '["sh"]'
import_image hello-world '["/hello"]'
