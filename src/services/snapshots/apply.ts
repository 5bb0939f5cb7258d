// Unpacks one layer tar into a private, freshly made directory without ever writing outside it.
// Threats (CVE-2014-6407, CVE-2014-9356): "../" names, absolute names, writing through a symlink the
// same tar planted, hardlinks to host files, whiteout names that climb out. Defence: every path is
// split into plain components ('..' rejects the layer), every existing component must be a real directory
// we made (a symlink component rejects the layer), files are created O_EXCL|O_NOFOLLOW.
// Nothing else writes into the directory while we apply, so an in-memory view of what we created stands in
// for lstat checks and cannot be raced.
import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync,
  utimesSync, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';
import { lsetxattr, mknod, mkWhiteout, S_IFCHR } from '../../sys/libc.js';
import { PaxXattrScanner, type Xattrs } from '../../util/tar/pax-xattrs.js';

const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

export interface ApplyLimits {
  /** Cap on the uncompressed tar stream (decompression bombs). */
  maxBytes: number;
  /** Cap on the number of tar entries (inode exhaustion). */
  maxEntries: number;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream, "sha256:<hex>". */
  diffId: string;
  /** Bytes of regular file content unpacked (hardlinks counted once). */
  size: number;
  entries: number;
}

/** A tar entry: its header, and its body as a byte stream. */
type Entry = { header: Header; destroy(e?: unknown): void } & AsyncIterable<Buffer>;

export class LayerError extends Error {}

/** Split a tar name into plain components. A leading '/' is read relative to the layer root, as docker does. */
export function splitTarPath(name: string): string[] {
  const comps = name.split('/').filter((c) => c !== '' && c !== '.');
  if (comps.includes('..')) throw new LayerError(`invalid tar entry ${JSON.stringify(name)}: path escapes the layer`);
  if (name.includes('\0')) throw new LayerError(`invalid tar entry ${JSON.stringify(name)}`);
  return comps;
}

/**
 * What this apply has put in the (fresh, private) layer directory: relative path → kind. Nothing else writes
 * there while we apply, so this view is exact, and checking it replaces an lstat per path component.
 */
type Kind = 'dir' | 'symlink' | 'other';
class LayerView {
  private readonly kinds = new Map<string, Kind>([['', 'dir']]);
  /** Directories given the setgid bit: what is created in them takes their group (and, for directories, the bit). */
  private readonly setgid = new Set<string>();
  private readonly asRoot = process.getuid?.() === 0;
  private readonly umask = process.umask();
  constructor(readonly root: string) {}
  kind(rel: string): Kind | undefined { return this.kinds.get(rel); }
  set(rel: string, k: Kind): void { this.kinds.set(rel, k); }
  markSetgid(rel: string, on: boolean): void { if (on) this.setgid.add(rel); else this.setgid.delete(rel); }
  /** Forget a path and everything under it (it was removed). */
  drop(rel: string): void {
    this.kinds.delete(rel);
    this.setgid.delete(rel);
    const prefix = `${rel}/`;
    for (const k of this.kinds.keys()) if (k.startsWith(prefix)) this.kinds.delete(k);
    for (const k of this.setgid) if (k.startsWith(prefix)) this.setgid.delete(k);
  }
  /** Whether what we create in `parentRel` is already root-owned, so chown can be left out (most entries). */
  ownedAsIs(parentRel: string, uid: number, gid: number): boolean {
    return this.asRoot && uid === 0 && gid === 0 && !this.setgid.has(parentRel);
  }
  /** Whether the create call's own mode argument gives exactly `mode`, so chmod can be left out. */
  modeAsIs(parentRel: string, mode: number): boolean {
    return (mode & 0o7000) === 0 && (mode & this.umask) === 0 && !this.setgid.has(parentRel);
  }
}

/** Make sure every parent of `comps` is a real directory inside the layer (creating missing ones); return the full path. */
function safeParent(view: LayerView, comps: string[], create: boolean): string {
  let rel = '';
  for (const c of comps.slice(0, -1)) {
    const parentRel = rel;
    rel = rel ? `${rel}/${c}` : c;
    const k = view.kind(rel);
    if (k === undefined) {
      if (!create) throw new LayerError(`${comps.join('/')}: not in layer`);
      const p = join(view.root, rel);
      mkdirSync(p, 0o755);
      if (!view.modeAsIs(parentRel, 0o755)) chmodSync(p, 0o755);
      view.set(rel, 'dir');
      continue;
    }
    if (k === 'symlink') throw new LayerError(`${comps.join('/')}: refusing to write through symlink ${c}`);
    if (k !== 'dir') throw new LayerError(`${comps.join('/')}: ${c} is not a directory`);
  }
  return join(view.root, ...comps);
}

/** Hashes and counts the raw tar bytes on their way to the parser. */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly max: number) { super(); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return cb(new LayerError(`layer exceeds the maximum size of ${this.max} bytes`));
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

async function drain(entry: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of entry) { /* discard */ }
}

/** Unpack `input` into `dest`, which must be a new, empty directory that nothing else writes to meanwhile. */
export async function applyTar(dest: string, input: Readable, limits: ApplyLimits): Promise<ApplyResult> {
  const meter = new Meter(limits.maxBytes);
  const xattrs = new PaxXattrScanner();
  const extract = tarExtract();
  let current: Entry | undefined;
  let aborting = false;
  // A failed feed (cap hit, bad gzip…) must also end the entry being read, or its reader would wait forever.
  const feeding = pipeline(input, meter, xattrs, extract).catch((e: unknown) => {
    if (aborting) return;
    aborting = true;
    feedError = e;
    current?.destroy(e);
    extract.destroy(e as Error);
  });
  let feedError: unknown;
  const dirTimes: Array<{ path: string; mtime: Date }> = [];
  const view = new LayerView(dest);
  let size = 0;
  let entries = 0;
  try {
    for await (const e of extract) {
      const entry = (current = e as unknown as Entry);
      if (++entries > limits.maxEntries) throw new LayerError(`layer has more than ${limits.maxEntries} entries`);
      const attrs = xattrs.nextEntry();
      size += await applyEntry(view, entry, dirTimes);
      if (attrs.length) applyXattrs(view.root, entry.header.name, attrs);
      await drain(entry);
    }
  } catch (e) {
    aborting = true;
    extract.destroy();
    input.destroy();
    await feeding;
    throw e;
  }
  await feeding;
  if (feedError) throw feedError;
  // Directory mtimes last, deepest first: creating children would otherwise bump them.
  for (const d of dirTimes.reverse()) utimesSync(d.path, d.mtime, d.mtime);
  return { diffId: `sha256:${meter.hash.digest('hex')}`, size, entries };
}

/**
 * An entry's extended attributes (file capabilities such as ping's cap_net_raw, user attributes). trusted.* and
 * system.* are not a layer's to set (trusted.overlay.* would forge overlay metadata); a file system that refuses an
 * attribute does not fail the layer.
 */
function applyXattrs(root: string, name: string, attrs: Xattrs): void {
  const comps = splitTarPath(name);
  if (comps.length && comps[comps.length - 1].startsWith(WH_PREFIX)) return;
  const path = join(root, ...comps);
  for (const [key, value] of attrs) {
    if (!key.startsWith('security.') && !key.startsWith('user.')) continue;
    try { lsetxattr(path, key, value); } catch { /* ENOTSUP, EPERM (user.* on a symlink) */ }
  }
}

// Every file system call is synchronous: layers are unpacked on worker threads (apply-pool.ts), one thread per
// layer, so a slow call holds up only its own layer, and a thread-pool round trip per call (which costs more than
// the call itself on a layer of small files) is never paid.

/** Applies one entry; returns the regular-file bytes it added. */
async function applyEntry(view: LayerView, entry: Entry, dirTimes: Array<{ path: string; mtime: Date }>): Promise<number> {
  const h = entry.header;
  const root = view.root;
  const comps = splitTarPath(h.name);
  const rel = comps.join('/');
  const mode = (h.mode ?? 0o644) & 0o7777;
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  const mtime = h.mtime ?? new Date(0);
  const base = comps[comps.length - 1] ?? '';
  const parentRel = comps.slice(0, -1).join('/');

  if (comps.length === 0) {
    // "./": the layer root's own metadata.
    if (h.type === 'directory') {
      lchownSync(root, uid, gid);
      chmodSync(root, mode);
      view.markSetgid('', (mode & 0o2000) !== 0);
      dirTimes.push({ path: root, mtime });
    }
    return 0;
  }

  if (base.startsWith(WH_PREFIX)) {
    const parentDir = dirname(safeParent(view, comps, true));
    if (base === WH_OPAQUE) {
      // overlayfs hides the lower layers' contents of a dir marked opaque.
      lsetxattr(parentDir, 'trusted.overlay.opaque', 'y');
      return 0;
    }
    if (base.startsWith(WH_PREFIX + WH_PREFIX)) return 0; // other aufs metadata (.wh..wh.plnk…): not content
    const victim = base.slice(WH_PREFIX.length);
    if (victim === '.' || victim === '..' || victim.includes('/')) throw new LayerError(`invalid whiteout ${h.name}`);
    const victimRel = parentRel ? `${parentRel}/${victim}` : victim;
    const p = join(parentDir, victim);
    if (view.kind(victimRel)) { rmSync(p, { recursive: true, force: true }); view.drop(victimRel); }
    mkWhiteout(p);
    view.set(victimRel, 'other');
    return 0;
  }

  const target = safeParent(view, comps, true);
  const existing = view.kind(rel);
  if (existing && !(h.type === 'directory' && existing === 'dir')) {
    // A later entry replaces an earlier one; rm never follows a symlink.
    rmSync(target, { recursive: true, force: true });
    view.drop(rel);
  }

  switch (h.type) {
    case 'file':
    case 'contiguous-file':
    case undefined:
    case null: {
      const owned = view.ownedAsIs(parentRel, uid, gid);
      const modeSet = owned && view.modeAsIs(parentRel, mode);
      const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, modeSet ? mode : 0o600);
      view.set(rel, 'other');
      let n = 0;
      try {
        for await (const chunk of entry) {
          n += chunk.length;
          for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
        }
        // chown first: it clears setuid/setgid bits that chmod then restores.
        if (!owned) fchownSync(fd, uid, gid);
        if (!modeSet) fchmodSync(fd, mode);
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
      return n;
    }
    case 'directory': {
      const owned = existing !== 'dir' && view.ownedAsIs(parentRel, uid, gid);
      const modeSet = owned && view.modeAsIs(parentRel, mode);
      if (existing !== 'dir') { mkdirSync(target, modeSet ? mode : 0o700); view.set(rel, 'dir'); }
      if (!owned) lchownSync(target, uid, gid);
      if (!modeSet) chmodSync(target, mode);
      view.markSetgid(rel, (mode & 0o2000) !== 0);
      dirTimes.push({ path: target, mtime });
      return 0;
    }
    case 'symlink':
      // The target is only data: it is never followed while applying.
      symlinkSync(h.linkname ?? '', target);
      view.set(rel, 'symlink');
      if (!view.ownedAsIs(parentRel, uid, gid)) lchownSync(target, uid, gid);
      lutimesSync(target, mtime, mtime);
      return 0;
    case 'link': {
      const lcomps = splitTarPath(h.linkname ?? '');
      if (lcomps.length === 0) throw new LayerError(`invalid hardlink ${h.name}`);
      const src = safeParent(view, lcomps, false);
      const k = view.kind(lcomps.join('/'));
      if (!k) throw new LayerError(`hardlink ${h.name} -> ${h.linkname}: target not in layer`);
      if (k === 'dir') throw new LayerError(`hardlink ${h.name} -> ${h.linkname}: target is a directory`);
      // link(2) does not follow a symlink at the source, so this stays inside the layer.
      linkSync(src, target);
      view.set(rel, k);
      return 0;
    }
    case 'character-device':
    case 'block-device':
    case 'fifo': {
      const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
      mknod(target, kind | mode, h.devmajor ?? 0, h.devminor ?? 0);
      view.set(rel, 'other');
      lchownSync(target, uid, gid);
      chmodSync(target, mode);
      utimesSync(target, mtime, mtime);
      return 0;
    }
    default:
      return 0; // unknown entry types (e.g. GNU sparse/volume headers) are skipped
  }
}
