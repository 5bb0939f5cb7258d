// A tar of a file or directory tree that someone else may be changing under us (a running container). Every
// child is reached from its parent's descriptor (/proc/self/fd/<dir>/<name>, O_PATH|O_NOFOLLOW) and read
// through the descriptor of the inode found, never by a path: a directory swapped for a symlink mid-walk is
// archived as that symlink, not followed. O_PATH opens have no side effects, so a device node or FIFO planted
// where a file was is never opened. The file syscalls are synchronous on purpose: for trees of small files a
// thread-pool round trip per call would cost more than the calls; the walk yields between 1 MiB chunks.
import { closeSync, constants, fstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import type { Writable } from 'node:stream';
import { at, O_PATH } from '../../sys/inroot.js';
import { encodeHeader, kindOf, padLength, TAR_END, type EntryHeader } from './header.js';

const CHUNK = 1 << 20;
/** Bytes queued for the consumer before we wait for it: reading goes on while the socket sends what is queued. */
const AHEAD = 8 << 20;
/** Entries handled between two yields to the event loop (a tree of tiny files never fills a chunk quickly). */
const ENTRIES_PER_TURN = 256;

export interface PackSource {
  /** O_PATH descriptor of the file or directory to archive (the caller keeps it). */
  fd: number;
  /** The archive name of that top entry ("dir", "file", "." …); everything else is under it. */
  name: string;
  /** Its path in the tree, to find the mount points below it. */
  path: string;
  /** What it points to, when it is a symlink (read by the caller, which knows where it lies). */
  linkname?: Buffer;
}

export interface PackOptions {
  /** A descriptor (O_PATH, ours to close) that stands in for `path` (a mount point), if any. */
  mountFd?: (path: string) => number | undefined;
  /** Owner to record instead of the files' own. */
  owner?: { uid: number; gid: number };
}

/** Buffers the archive into 1 MiB writes and waits for the consumer when it is behind. */
class TarOut {
  buf = Buffer.allocUnsafe(CHUNK);
  off = 0;
  bytes = 0;
  private entries = 0;
  constructor(private readonly w: Writable) {}

  space(): number { return this.buf.length - this.off; }

  async put(b: Buffer): Promise<void> {
    if (b.length > this.space()) await this.flush();
    if (b.length > this.buf.length) { await this.send(b); return; }
    b.copy(this.buf, this.off);
    this.off += b.length;
  }

  async zeros(n: number): Promise<void> {
    if (n > this.space()) await this.flush();
    this.buf.fill(0, this.off, this.off + n);
    this.off += n;
  }

  /** Called per entry: lets the event loop in now and then. */
  async tick(): Promise<void> {
    if (++this.entries % ENTRIES_PER_TURN === 0) await new Promise<void>((r) => setImmediate(r));
  }

  async flush(): Promise<void> {
    if (this.off === 0) return;
    const chunk = this.buf.subarray(0, this.off);
    // the written chunk stays referenced by the stream until sent: never reuse it
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.off = 0;
    await this.send(chunk);
  }

  private async send(chunk: Buffer): Promise<void> {
    if (this.w.destroyed) throw new Error('archive consumer went away');
    this.bytes += chunk.length;
    this.w.write(chunk);
    if (this.w.writableLength < AHEAD) { await new Promise<void>((r) => setImmediate(r)); return; }
    await new Promise<void>((resolve, reject) => {
      const done = () => { this.w.off('drain', done); this.w.off('close', gone); resolve(); };
      const gone = () => { this.w.off('drain', done); reject(new Error('archive consumer went away')); };
      this.w.on('drain', done);
      this.w.once('close', gone);
    });
  }
}


const major = (dev: number) => Math.floor(dev / 256) & 0xfff;
const minor = (dev: number) => (dev & 0xff) | ((Math.floor(dev / 4096) & 0xfff00));

class Packer {
  private readonly links = new Map<string, Buffer>();
  constructor(private readonly out: TarOut, private readonly o: PackOptions) {}

  /** One entry: `fd` is the O_PATH descriptor of the inode, `readLink` what it points to if it is a symlink. */
  async entry(fd: number, st: Stats, name: Buffer, readLink: () => Buffer, path: string): Promise<void> {
    const kind = kindOf(st);
    if (!kind) return;
    const h: EntryHeader = {
      name: kind === 'dir' && name[name.length - 1] !== 0x2f ? Buffer.concat([name, Buffer.from('/')]) : name,
      kind, mode: st.mode & 0o7777, uid: this.o.owner?.uid ?? st.uid, gid: this.o.owner?.gid ?? st.gid,
      size: 0, mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (kind === 'symlink') {
      try { h.linkname = readLink(); } catch { return; }
    } else if (kind === 'char' || kind === 'block') {
      h.devmajor = major(st.rdev);
      h.devminor = minor(st.rdev);
    } else if (kind === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first) { h.kind = 'link'; h.linkname = first; } else this.links.set(key, name);
    }
    if (h.kind === 'file') return this.file(fd, st, h);
    await this.out.put(encodeHeader(h));
    await this.out.tick();
    if (kind === 'dir') await this.dir(fd, h.name, path);
  }

  private async file(fd: number, st: Stats, h: EntryHeader): Promise<void> {
    let rfd: number;
    // reopening the O_PATH descriptor reaches the inode we checked, whatever now sits at its name
    try { rfd = openSync(at(fd), constants.O_RDONLY); } catch { return; }
    try {
      h.size = st.size;
      await this.out.put(encodeHeader(h));
      let left = st.size;
      while (left > 0) {
        if (this.out.space() === 0) await this.out.flush();
        const n = readSync(rfd, this.out.buf, this.out.off, Math.min(left, this.out.space()), null);
        if (n === 0) break; // shrank while we read: the header promised `size` bytes, zeros make it up
        this.out.off += n;
        left -= n;
      }
      if (left > 0) await this.out.zeros(left);
      await this.out.zeros(padLength(st.size));
      await this.out.tick();
    } finally {
      closeSync(rfd);
    }
  }

  private async dir(dirFd: number, prefix: Buffer, path: string): Promise<void> {
    let names: Buffer[];
    try { names = readdirSync(at(dirFd), { encoding: 'buffer' }); } catch { return; }
    names.sort(Buffer.compare);
    for (const base of names) {
      const childPath = path === '/' ? `/${base.toString()}` : `${path}/${base.toString()}`;
      let fd: number | undefined;
      try {
        fd = this.o.mountFd?.(childPath) ?? openSync(at(dirFd, base), O_PATH | constants.O_NOFOLLOW);
        const st = fstatSync(fd);
        // a link is read by name, from the parent: what it says now is only data in the archive
        await this.entry(fd, st, Buffer.concat([prefix, base]), () => readlinkSync(at(dirFd, base), { encoding: 'buffer' }), childPath);
      } catch (e) {
        // gone or unreadable meanwhile: skipped, as docker does; a consumer that left ends the walk
        if ((e as Error).message === 'archive consumer went away') throw e;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
  }
}

/** Writes the tar of `src` to `out` (not ended); returns the bytes written. */
export async function packTree(src: PackSource, out: Writable, o: PackOptions = {}): Promise<number> {
  const t = new TarOut(out);
  const p = new Packer(t, o);
  const st = fstatSync(src.fd);
  await p.entry(src.fd, st, Buffer.from(src.name), () => src.linkname ?? Buffer.alloc(0), src.path);
  await t.put(TAR_END);
  await t.flush();
  return t.bytes;
}
