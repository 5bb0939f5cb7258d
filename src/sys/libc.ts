// Syscalls Node lacks, called through koffi. Loaded lazily so the CLI never pays for it.
import { createRequire } from 'node:module';
import { closeSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const require = createRequire(import.meta.url);

interface Libc {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  mknod(path: string, mode: number, dev: number): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  socket(domain: number, type: number, proto: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  close(fd: number): number;
  errno(): number;
  strerror(n: number): string;
  malloc_trim(pad: number): number;
  ioctl(fd: number, request: number, argType: string, arg: Buffer): number;
}

// koffi's types are loose: each module declares the functions it calls with the signatures it gives them
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface LibcHandle { koffi: any; lib: { func(signature: string): any } }
/* eslint-enable @typescript-eslint/no-explicit-any */

let handle: LibcHandle | undefined;

/** koffi and the C library, loaded once for every module that calls into it. */
export function libcHandle(): LibcHandle {
  if (!handle) {
    const koffi = require('koffi');
    handle = { koffi, lib: koffi.load('libc.so.6') };
  }
  return handle;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const { koffi, lib } = libcHandle();
  libc = {
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    socket: lib.func('int socket(int, int, int)'),
    connect: lib.func('int connect(int, const void *, uint32_t)'),
    close: lib.func('int close(int)'),
    errno: () => koffi.errno() as number,
    strerror: lib.func('const char *strerror(int errnum)'),
    malloc_trim: lib.func('int malloc_trim(size_t pad)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
  };
  return libc;
}

export class SyscallError extends Error {
  constructor(readonly call: string, readonly errno: number, detail: string) {
    super(`${call}: ${detail}`);
  }
}

function check(call: string, rc: number, what: string): void {
  if (rc === 0) return;
  const l = load();
  const e = l.errno();
  throw new SyscallError(call, e, `${what}: ${l.strerror(e)}`);
}

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MNT_DETACH = 2;
export const S_IFCHR = 0o020000;
export const EINVAL = 22;
export const ENOENT = 2;

export function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
  check('mount', load().mount(source, target, fstype, flags, data), target);
}

/** Unmount; a path that is not mounted is not an error. */
export function umount(target: string, flags = MNT_DETACH): void {
  const l = load();
  if (l.umount2(target, flags) === 0) return;
  const e = l.errno();
  if (e === EINVAL || e === ENOENT) return;
  throw new SyscallError('umount2', e, `${target}: ${l.strerror(e)}`);
}

/**
 * Unmount on a thread of libuv's pool: unmounting an overlay first writes back every dirty page of its upper
 * filesystem (ovl_sync_fs), which after a pull or a build can take a second, all that time blocking the daemon's
 * event loop if done in place. A failure is looked into by doing it again in place (cheap once nothing is to sync).
 */
export async function umountAsync(target: string, flags = MNT_DETACH): Promise<void> {
  const rc = await new Promise<number>((resolve, reject) => {
    (load().umount2 as unknown as { async(t: string, f: number, cb: (err: unknown, rc: number) => void): void })
      .async(target, flags, (err, r) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(r)));
  });
  if (rc !== 0) umount(target, flags);
}

/** An overlay whiteout: a character device with device number 0/0. */
export function mkWhiteout(path: string): void {
  check('mknod', load().mknod(path, S_IFCHR | 0o000, 0), path);
}

export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc makedev encoding
  const dev = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) * 2 ** 32);
  check('mknod', load().mknod(path, mode, dev), path);
}

export function lsetxattr(path: string, name: string, value: string | Buffer): void {
  const b = Buffer.isBuffer(value) ? value : Buffer.from(value);
  check('lsetxattr', load().lsetxattr(path, name, b, b.length, 0), `${path} ${name}`);
}

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;

/** A connected SOCK_SEQPACKET unix socket (node:net only connects stream sockets). Returns the fd. */
export function connectSeqpacketFd(path: string): number {
  // sun_path holds 107 bytes: a longer path is reached through a descriptor of its directory, as conmon binds it
  if (Buffer.byteLength(path) > 107) {
    const dir = openSync(dirname(path), 'r');
    try { return connectSeqpacketFd(`/proc/self/fd/${dir}/${basename(path)}`); } finally { closeSync(dir); }
  }
  const l = load();
  const p = Buffer.from(path);
  const sun = Buffer.alloc(110);
  sun.writeUInt16LE(AF_UNIX, 0);
  p.copy(sun, 2);
  const fd = l.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError('socket', l.errno(), path);
  if (l.connect(fd, sun, 2 + p.length + 1) !== 0) {
    const e = l.errno();
    l.close(fd);
    throw new SyscallError('connect', e, `${path}: ${l.strerror(e)}`);
  }
  return fd;
}

/** Give the kernel back the free pages glibc keeps in its heaps (those of every thread). */
export function mallocTrim(): void {
  load().malloc_trim(0);
}

const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;
const FS_TOPDIR_FL = 0x00020000;

/**
 * Mark a directory as the top of a hierarchy (`chattr +T`), so that ext4 gives each directory made in it a block
 * group of its own. Without a journal, ext4 will not reuse an inode freed in the last minutes and scans past every
 * one of them at each file creation: a layer unpacked where another was just removed pays that for each of its
 * files. Returns false where the filesystem has no such flag (tmpfs, overlay…), which is no loss.
 */
export function markTopDirectory(path: string): boolean {
  const l = load();
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return false; }
  try {
    const flags = Buffer.alloc(8);
    if (l.ioctl(fd, FS_IOC_GETFLAGS, 'void *', flags) !== 0) return false;
    const current = flags.readInt32LE(0);
    if (current & FS_TOPDIR_FL) return true;
    flags.writeInt32LE(current | FS_TOPDIR_FL, 0);
    return l.ioctl(fd, FS_IOC_SETFLAGS, 'void *', flags) === 0;
  } finally {
    closeSync(fd);
  }
}
