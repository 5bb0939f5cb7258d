// Paths resolved inside a root directory the way a process chrooted there would resolve them, without ever
// leaving it (docker cp's symlink races, CVE-2018-15664). Each component is looked up in the directory reached
// so far through "/proc/self/fd/<fd>/<name>" — the kernel starts that lookup at the very directory the fd holds,
// which makes it openat(fd, name) — with O_NOFOLLOW; a symlink's target is walked the same way, from the root
// when absolute, and ".." never climbs above the root. Mount points (a container's volumes and binds) are crossed
// into their sources. The result is an O_PATH descriptor: reading or writing through it (/proc/self/fd/<fd>)
// reaches that inode whatever symlink is swapped in later.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';

/** open(2) flag node does not name: a descriptor that only locates an inode (no open side effects on devices or FIFOs). */
export const O_PATH = 0o10000000;
const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY } = constants;
const MAX_LINKS = 40;

/** A path whose lookup starts at directory fd `fd`: only ever a single plain name after it (more components would follow symlinks). */
export function at(fd: number, name?: string | Buffer): string | Buffer {
  if (name === undefined) return `/proc/self/fd/${fd}`;
  return typeof name === 'string' ? `/proc/self/fd/${fd}/${name}` : Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), name]);
}

export type InRootCode = 'ENOENT' | 'ENOTDIR' | 'ELOOP';

export class InRootError extends Error {
  constructor(readonly code: InRootCode, readonly path: string) {
    super(`${path}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : 'too many levels of symbolic links'}`);
  }
}

export interface RootMount {
  /** Where it appears in the root: a clean absolute path. */
  destination: string;
  /** What is shown there: a host path from the daemon's own records, so it is trusted as it is. */
  source: string;
  rw: boolean;
}

export interface Resolved {
  /** O_PATH descriptor of what the path names; the caller closes it. */
  fd: number;
  /** Its path inside the root, with every symlink resolved. */
  path: string;
  stat: Stats;
  /** The innermost mount it lies in. */
  mount?: RootMount;
}

interface Frame { name: string; fd: number; mount?: RootMount }

/** Components of a path: '' and '.' dropped, '..' kept (the walk applies it). */
function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** A trailing "/" or "/." asks for a directory: the last component is then followed even when it is a symlink. */
export function assertsDirectory(path: string): boolean {
  return path.endsWith('/') || path === '.' || path.endsWith('/.');
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

export class InRoot {
  private readonly mounts = new Map<string, RootMount>();

  /** `rootFd` (a directory, O_PATH is enough) stays owned by the caller until close(). */
  constructor(readonly rootFd: number, mounts: RootMount[] = []) {
    for (const m of mounts) this.mounts.set(posix.normalize(m.destination).replace(/\/+$/, ''), m);
  }

  /** A root we name ourselves: its own path is trusted, only what lies below it is not. */
  static open(dir: string, mounts: RootMount[] = []): InRoot {
    return new InRoot(openSync(dir, O_PATH | O_DIRECTORY), mounts);
  }

  close(): void {
    closeSync(this.rootFd);
  }

  /** The mount whose destination is exactly `path` (a resolved path). */
  mountAt(path: string): RootMount | undefined {
    return this.mounts.size ? this.mounts.get(path) : undefined;
  }

  /** O_PATH descriptor of a mount's source. */
  openMount(m: RootMount): number {
    return openSync(m.source, O_PATH);
  }

  /** Resolves `path`; the last component is followed when `follow` or when the path ends in "/" or "/.". */
  resolve(path: string, follow: boolean): Resolved {
    const frames = this.walk(path, follow, false).frames;
    const top = frames[frames.length - 1];
    // the root frame's fd belongs to us: hand out a fresh one
    const fd = frames.length === 1 ? openSync(at(this.rootFd), O_PATH | O_DIRECTORY) : top.fd;
    for (const f of frames.slice(1, -1)) closeSync(f.fd);
    try {
      return { fd, path: pathOf(frames), stat: fstatSync(fd), mount: top.mount };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Every symlink followed as far as the path exists, the rest taken as written: docker's linkTarget of a stat. */
  resolvePath(path: string): string {
    const { frames, rest } = this.walk(path, true, true);
    for (const f of frames.slice(1)) closeSync(f.fd);
    return posix.join(pathOf(frames), ...rest);
  }

  /** What the symlink at `path` says, read from its (resolved) parent directory. */
  readlink(path: string): Buffer {
    const parent = this.resolve(posix.dirname(path), true);
    try {
      return readlinkSync(at(parent.fd, posix.basename(path)), { encoding: 'buffer' });
    } finally {
      closeSync(parent.fd);
    }
  }

  /** The content of a regular file (e.g. the container's /etc/passwd), up to `max` bytes; undefined when missing. */
  readFile(path: string, max = 4 << 20): Buffer | undefined {
    let r: Resolved;
    try { r = this.resolve(path, true); } catch { return undefined; }
    try {
      if (!r.stat.isFile()) return undefined;
      // reopened through the descriptor: the inode we checked, not whatever sits at the name now
      const fd = openSync(at(r.fd), O_RDONLY);
      try {
        const buf = Buffer.alloc(Math.min(r.stat.size, max));
        let n = 0;
        while (n < buf.length) {
          const k = readSync(fd, buf, n, buf.length - n, null);
          if (k === 0) break;
          n += k;
        }
        return buf.subarray(0, n);
      } finally {
        closeSync(fd);
      }
    } finally {
      closeSync(r.fd);
    }
  }

  private walk(path: string, follow: boolean, partial: boolean): { frames: Frame[]; rest: string[] } {
    const frames: Frame[] = [{ name: '', fd: this.rootFd }];
    const todo = components(path);
    const wantDir = assertsDirectory(path);
    let links = 0;
    const fail = (c: InRootCode, name: string) => new InRootError(c, posix.join(pathOf(frames), name));
    try {
      while (todo.length > 0) {
        const name = todo.shift() as string;
        if (name === '..') {
          if (frames.length > 1) closeSync((frames.pop() as Frame).fd);
          continue;
        }
        const top = frames[frames.length - 1];
        const last = todo.length === 0;
        const mount = this.mountAt(posix.join(pathOf(frames), name));
        let fd: number;
        try {
          fd = mount ? this.openMount(mount) : openSync(at(top.fd, name), O_PATH | O_NOFOLLOW);
        } catch (e) {
          if (code(e) === 'ENOENT' && partial) return { frames, rest: [name, ...todo] };
          if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') throw fail(code(e) as InRootCode, name);
          throw e;
        }
        const st = fstatSync(fd);
        if (st.isSymbolicLink() && (!last || follow || wantDir)) {
          closeSync(fd);
          if (++links > MAX_LINKS) throw fail('ELOOP', name);
          // read by name: a link swapped meanwhile only changes which path inside the root we walk next
          let target: string;
          try { target = readlinkSync(at(top.fd, name), 'utf8'); } catch { throw fail('ENOENT', name); }
          if (target.startsWith('/')) while (frames.length > 1) closeSync((frames.pop() as Frame).fd);
          todo.unshift(...components(target));
          continue;
        }
        if (!st.isDirectory() && (!last || wantDir)) {
          closeSync(fd);
          throw fail('ENOTDIR', name);
        }
        frames.push({ name, fd, mount: mount ?? top.mount });
      }
      return { frames, rest: [] };
    } catch (e) {
      for (const f of frames.slice(1)) closeSync(f.fd);
      throw e;
    }
  }
}

function pathOf(frames: Frame[]): string {
  return '/' + frames.slice(1).map((f) => f.name).join('/');
}

/** Opens `name` in directory `dirFd` as a directory to list or modify; fails (ELOOP/ENOTDIR) if it is anything else. */
export function openDirAt(dirFd: number, name: string | Buffer): number {
  return openSync(at(dirFd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

/**
 * Removes `name` from directory `dirFd`, a directory with everything below it. Each level is entered through its
 * own descriptor, so a directory swapped for a symlink mid-way is never followed (node's rm would walk by path).
 */
export function removeAt(dirFd: number, name: string | Buffer): void {
  let st: Stats;
  try { st = lstatSync(at(dirFd, name)); } catch (e) { if (code(e) === 'ENOENT') return; throw e; }
  if (!st.isDirectory()) {
    unlinkSync(at(dirFd, name));
    return;
  }
  const fd = openDirAt(dirFd, name);
  try {
    for (const child of readdirSync(at(fd), { encoding: 'buffer' })) removeAt(fd, child);
  } finally {
    closeSync(fd);
  }
  rmdirSync(at(dirFd, name));
}
