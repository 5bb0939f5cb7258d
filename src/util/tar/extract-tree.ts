// Unpacks a tar into an existing directory that someone else may be changing meanwhile (a running container,
// or the user's own directory on the host), never writing outside the tree it belongs to. Entry names are
// cleaned and refused when they climb out ("../x"); an absolute name is taken relative to the destination, as
// docker does. Every directory is reached from its parent's descriptor: an existing symlink on the way is
// resolved inside the tree's root (InRoot), never on the host, and the entry itself is created O_EXCL|O_NOFOLLOW
// next to that descriptor, so a symlink planted at its name is replaced, not written through. Hard links may
// only point at entries inside the destination; symlinks whose relative target climbs out of it are refused
// (docker's rule).
import {
  chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync,
  mkdirSync, openSync, symlinkSync, utimesSync, writeSync, type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';
import { at, InRoot, InRootError, O_PATH, removeAt, type Resolved, type RootMount } from '../../sys/inroot.js';

export type Owner = 'header' | 'none' | { uid: number; gid: number };

export interface ExtractOptions {
  root: InRoot;
  /** The directory to unpack into: a path in `root`, resolved already (symlinks followed). */
  dest: string;
  /** Refuse replacing a directory with a non-directory and the other way round (else the old one goes). */
  noOverwriteDirNonDir: boolean;
  /** Whose files they become: the archive's ids, the caller's (no chown), or fixed ids. */
  owner: Owner;
  /** Throws when nothing may be written where a directory lies (a read-only mount). */
  checkWritable?: (dir: { path: string; mount?: RootMount }) => void;
  /** Renames each entry (and hard link target) on the way in: docker cp's rebasing. */
  rename?: (name: string) => string;
  /** Where the root is, for messages (a host directory); paths show as inside the root otherwise. */
  displayRoot?: string;
}

export class ExtractError extends Error {
  constructor(message: string, readonly kind: 'invalid' | 'conflict' = 'invalid') {
    super(message);
  }
}

type Entry = { header: Header; resume(): void; destroy(e?: unknown): void } & AsyncIterable<Buffer>;

/** A directory we hold: O_PATH descriptor, its path in the root, the mount it lies in; `made`: this extraction
 *  created it, and these are the names it put there since (any other name needs no lstat: O_EXCL catches a
 *  name someone else slips in). */
interface Dir { fd: number; path: string; mount?: RootMount; made?: Set<string> }

const MAX_OPEN_DIRS = 4096;
const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

class Extractor {
  private readonly dirs = new Map<string, Dir>();
  private readonly top: Dir;
  private readonly times: Array<{ fd: number; mtime: Date }> = [];
  bytes = 0;

  constructor(private readonly o: ExtractOptions) {
    let r: Resolved;
    try { r = o.root.resolve(o.dest, true); } catch (e) {
      // it was there when the caller looked: someone removed it meanwhile
      if (e instanceof InRootError) throw new ExtractError(`${this.show(o.dest)}: ${e.message.slice(e.path.length + 2)}`);
      throw e;
    }
    if (!r.stat.isDirectory()) {
      closeSync(r.fd);
      throw new ExtractError('extraction point is not a directory');
    }
    this.top = { fd: r.fd, path: r.path, mount: r.mount };
    o.checkWritable?.(this.top);
  }

  /** A path in the root as messages show it. */
  private show(p: string): string {
    return this.o.displayRoot ? posix.join(this.o.displayRoot, p) : p;
  }

  close(): void {
    for (const t of this.times) {
      try { utimesSync(at(t.fd), t.mtime, t.mtime); } catch { /* gone meanwhile */ }
      closeSync(t.fd);
    }
    this.times.length = 0;
    this.forget('');
    closeSync(this.top.fd);
  }

  /** Drops held directories at `rel` and below ('' = all). */
  private forget(rel: string): void {
    for (const [k, d] of this.dirs) {
      if (rel === '' || k === rel || k.startsWith(`${rel}/`)) { closeSync(d.fd); this.dirs.delete(k); }
    }
  }

  /** The directory `comps` below the destination, made (mode 755) where missing when `create`. */
  private dir(comps: string[], create: boolean): Dir {
    if (comps.length === 0) return this.top;
    const key = comps.join('/');
    const held = this.dirs.get(key);
    if (held) return held;
    const parent = this.dir(comps.slice(0, -1), create);
    const name = comps[comps.length - 1];
    const path = posix.join(parent.path, name);
    const mount = this.o.root.mountAt(path);
    let d: Dir | undefined;
    let made = false;
    for (let attempt = 0; !d; attempt++) {
      let fd: number;
      try {
        fd = mount ? this.o.root.openMount(mount) : openSync(at(parent.fd, name), O_PATH | constants.O_NOFOLLOW);
      } catch (e) {
        if (errno(e) !== 'ENOENT' || !create || attempt > 2) throw new ExtractError(`${this.show(path)}: no such file or directory`);
        try { mkdirSync(at(parent.fd, name), 0o755); made = true; parent.made?.add(name); } catch (me) { if (errno(me) !== 'EEXIST') throw me; }
        continue;
      }
      const st = fstatSync(fd);
      if (st.isDirectory()) { d = { fd, path, mount: mount ?? parent.mount, made: made && !mount ? new Set() : undefined }; break; }
      closeSync(fd);
      if (!st.isSymbolicLink()) throw new ExtractError(`${this.show(path)}: not a directory`);
      // an existing link on the way: followed inside the root, as a process chrooted there would
      let r: Resolved;
      try { r = this.o.root.resolve(path, true); } catch (e) {
        if (e instanceof InRootError) throw new ExtractError(`${this.show(path)}: ${e.message.slice(e.path.length + 2)}`);
        throw e;
      }
      if (!r.stat.isDirectory()) { closeSync(r.fd); throw new ExtractError(`${this.show(path)}: not a directory`); }
      d = { fd: r.fd, path: r.path, mount: r.mount };
    }
    try { this.o.checkWritable?.(d); } catch (e) { closeSync(d.fd); throw e; }
    this.dirs.set(key, d);
    return d;
  }

  private ids(h: Header): { uid: number; gid: number } | undefined {
    const o = this.o.owner;
    if (o === 'none') return undefined;
    return o === 'header' ? { uid: h.uid ?? 0, gid: h.gid ?? 0 } : o;
  }

  async entry(e: Entry): Promise<void> {
    // bounded descriptors: dropped between entries only, never while one entry still uses them
    if (this.dirs.size >= MAX_OPEN_DIRS) this.forget('');
    const h = e.header;
    const raw = this.o.rename ? this.o.rename(h.name) : h.name;
    const clean = posix.normalize(raw.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (clean === '.' || clean === '' || (h.type as string) === 'pax-global-header') return;
    if (clean === '..' || clean.startsWith('../') || h.name.includes('\0')) throw new ExtractError(`invalid entry name ${JSON.stringify(h.name)}`);
    const comps = clean.split('/');
    const base = comps[comps.length - 1];
    const parent = this.dir(comps.slice(0, -1), true);
    const target = this.show(posix.join(parent.path, base));
    const top = this.show(this.top.path);
    const isDir = h.type === 'directory';
    let cur: Stats | undefined;
    if (!parent.made || parent.made.has(base)) {
      try { cur = lstatSync(at(parent.fd, base)); } catch (err) { if (errno(err) !== 'ENOENT') throw err; }
    }
    parent.made?.add(base);
    const merge = !!cur?.isDirectory() && isDir;
    if (cur) {
      if (this.o.noOverwriteDirNonDir && cur.isDirectory() && !isDir) throw new ExtractError(`cannot overwrite directory "${target}" with non-directory "${top}"`, 'conflict');
      if (this.o.noOverwriteDirNonDir && !cur.isDirectory() && isDir) throw new ExtractError(`cannot overwrite non-directory "${target}" with directory "${top}"`, 'conflict');
      if (!merge) {
        this.forget(comps.join('/'));
        removeAt(parent.fd, base);
      }
    }
    const ids = this.ids(h);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined:
        return this.file(e, parent, base, mode, mtime, ids);
      case 'directory': {
        if (!merge) mkdirSync(at(parent.fd, base), 0o700);
        const d = this.dir(comps, false);
        if (!merge) d.made ??= new Set();
        if (ids) chownSync(at(d.fd), ids.uid, ids.gid);
        chmodSync(at(d.fd), mode);
        this.times.push({ fd: openSync(at(d.fd), O_PATH), mtime });
        if (this.times.length > MAX_OPEN_DIRS) this.settleTimes(MAX_OPEN_DIRS / 2);
        return;
      }
      case 'symlink': {
        const link = h.linkname ?? '';
        const dirRel = comps.slice(0, -1).join('/');
        if (!link.startsWith('/') && posix.normalize(posix.join(dirRel || '.', link)).split('/')[0] === '..') {
          throw new ExtractError(`invalid symlink ${JSON.stringify(target)} -> ${JSON.stringify(link)}`);
        }
        symlinkSync(link, at(parent.fd, base));
        if (ids) lchownSync(at(parent.fd, base), ids.uid, ids.gid);
        lutimesSync(at(parent.fd, base), mtime, mtime);
        return;
      }
      case 'link': {
        const name = this.o.rename ? this.o.rename(h.linkname ?? '') : h.linkname ?? '';
        const src = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
        if (src === '.' || src === '' || src === '..' || src.startsWith('../')) throw new ExtractError(`invalid hardlink target ${JSON.stringify(h.linkname)}`);
        const sc = src.split('/');
        const from = this.dir(sc.slice(0, -1), false);
        // link(2) never follows a symlink at the source: the new name shares that inode, inside the tree
        try { linkSync(at(from.fd, sc[sc.length - 1]), at(parent.fd, base)); } catch (err) {
          if (errno(err) === 'ENOENT') throw new ExtractError(`hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: no such file or directory`);
          throw err;
        }
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const { mknod } = await import('../../sys/libc.js');
        const kind = h.type === 'fifo' ? constants.S_IFIFO : h.type === 'block-device' ? constants.S_IFBLK : constants.S_IFCHR;
        mknod(String(at(parent.fd, base)), kind | mode, h.devmajor ?? 0, h.devminor ?? 0);
        const fd = openSync(at(parent.fd, base), O_PATH | constants.O_NOFOLLOW);
        try {
          // through the O_PATH descriptor: the node we made, whatever is renamed onto its name meanwhile
          if (ids) chownSync(at(fd), ids.uid, ids.gid);
          chmodSync(at(fd), mode);
          utimesSync(at(fd), mtime, mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      default:
        return; // other entry types carry no file
    }
  }

  private async file(e: Entry, parent: Dir, base: string, mode: number, mtime: Date, ids?: { uid: number; gid: number }): Promise<void> {
    const fd = openSync(at(parent.fd, base), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of e) {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
        this.bytes += chunk.length;
      }
      // chown first: it clears setuid/setgid bits that chmod then restores
      if (ids) fchownSync(fd, ids.uid, ids.gid);
      fchmodSync(fd, mode);
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Directory times go last (creating children changes them); past the cap, the oldest are settled early. */
  private settleTimes(n: number): void {
    for (const t of this.times.splice(0, n)) {
      try { utimesSync(at(t.fd), t.mtime, t.mtime); } catch { /* gone meanwhile */ }
      closeSync(t.fd);
    }
  }
}

/** tar-stream's messages for a cut or garbled stream, as docker words them. */
function tarError(e: unknown): Error {
  const m = (e as Error).message ?? String(e);
  if (/unexpected end of data/i.test(m)) return new ExtractError('unexpected EOF');
  if (/invalid tar header/i.test(m)) return new ExtractError('archive/tar: invalid tar header');
  return e as Error;
}

/** Unpacks the (uncompressed) tar `input` into `o.dest`; returns the entries and file bytes written. */
export async function extractTree(input: Readable, o: ExtractOptions): Promise<{ entries: number; bytes: number }> {
  const x = new Extractor(o);
  const parser = tarExtract();
  let current: Entry | undefined;
  let failed: unknown;
  const feeding = pipeline(input, parser).catch((e: unknown) => {
    failed ??= tarError(e);
    current?.destroy(failed);
    parser.destroy(failed as Error);
  });
  let entries = 0;
  try {
    for await (const raw of parser) {
      const e = (current = raw as unknown as Entry);
      entries++;
      await x.entry(e);
      e.resume();
    }
  } catch (e) {
    failed ??= e instanceof ExtractError ? e : mapFsError(tarError(e));
    parser.destroy();
    input.destroy();
  } finally {
    await feeding;
    x.close();
  }
  if (failed) throw failed;
  return { entries, bytes: x.bytes };
}

/** Node's errors name our /proc/self/fd paths: keep the reason only. */
function mapFsError(e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (!err.code || !err.syscall) return err;
  const reason = { EROFS: 'read-only file system', ENOSPC: 'no space left on device', EXDEV: 'invalid cross-device link', EPERM: 'operation not permitted', EACCES: 'permission denied', EEXIST: 'file exists', ENOTDIR: 'not a directory', EISDIR: 'is a directory', ENOENT: 'no such file or directory', EBUSY: 'device or resource busy', EDQUOT: 'disk quota exceeded' }[err.code] ?? err.code;
  return new ExtractError(`${err.syscall}: ${reason}`, 'invalid');
}
