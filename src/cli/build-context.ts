// The build context of `tug build` as the tar stream docker's CLI sends: the context directory walked in name
// order, what .dockerignore excludes left out (whole directories skipped unless an exception could reach inside),
// names relative to the context with '/' separators, owner 0:0, modes and mtimes kept, symlinks as symlinks, hard
// links as links. The file calls are synchronous (for many small files a thread-pool round trip per call costs more
// than the call); the archive is produced in 1 MiB chunks only as fast as the request takes them, so memory stays
// bounded whatever the size of the context.
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Dirent, type Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { IgnoreMatcher, parseDockerignore, type IgnorePattern, type MatchState } from '../util/dockerignore.js';
import { BLOCK, encodeHeader, kindOf, padLength, TAR_END, type EntryHeader } from '../util/tar/header.js';

export const DOCKERIGNORE = '.dockerignore';
const CHUNK = 1 << 20;

/** The patterns of the context's .dockerignore (none when there is no such file). */
export function readIgnorePatterns(contextDir: string): IgnorePattern[] {
  try {
    return parseDockerignore(readFileSync(`${contextDir}/${DOCKERIGNORE}`, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * The matcher for packing: docker sends .dockerignore and the Dockerfile even when they are excluded (the daemon
 * needs them, and drops them itself), by adding exceptions for them at the end.
 */
export function contextMatcher(patterns: IgnorePattern[], dockerfile?: string): IgnoreMatcher {
  const all = [...patterns];
  const first = new IgnoreMatcher(all);
  if (first.matches(DOCKERIGNORE)) all.push({ pattern: DOCKERIGNORE, exception: true });
  if (dockerfile && !dockerfile.startsWith('../') && first.matches(dockerfile)) all.push({ pattern: dockerfile, exception: true });
  return all.length === patterns.length ? first : new IgnoreMatcher(all);
}

export interface ContextSource {
  /** Absolute path of the context directory, symlinks resolved. */
  dir: string;
  matcher: IgnoreMatcher;
  /**
   * A Dockerfile from outside the context (or stdin), added under `name`; `name` is also appended to the
   * .dockerignore sent (one is made if there is none) so that the daemon leaves it out of the image, as docker does.
   */
  extraDockerfile?: { name: string; content: Buffer };
  /** For the added entries (ms since the epoch). */
  now?: number;
}

export interface ContextArchive {
  stream: Readable;
  /** Bytes of archive produced so far. */
  bytes(): number;
}


const major = (dev: number) => Math.floor(dev / 256) & 0xfff;
const minor = (dev: number) => (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

class ContextPacker {
  private buf = Buffer.allocUnsafe(CHUNK);
  private off = 0;
  private readonly ready: Buffer[] = [];
  /** First name archived for each multiply-linked inode: later ones become hard links to it. */
  private readonly links = new Map<string, Buffer>();
  private ignoreSent = false;
  bytes = 0;

  constructor(private readonly src: ContextSource) {}

  async *chunks(): AsyncGenerator<Buffer> {
    for (const _ of this.walk(this.src.dir, '', undefined)) yield* this.take();
    this.addGenerated();
    this.put(TAR_END);
    this.cut();
    yield* this.take();
  }

  private take(): Buffer[] {
    return this.ready.splice(0);
  }

  private cut(): void {
    if (this.off === 0) return;
    this.ready.push(this.buf.subarray(0, this.off));
    this.bytes += this.off;
    // the chunk handed out stays referenced until sent: never reuse it
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.off = 0;
  }

  private put(b: Buffer): void {
    for (let i = 0; i < b.length;) {
      const n = Math.min(b.length - i, CHUNK - this.off);
      b.copy(this.buf, this.off, i, i + n);
      this.off += n;
      i += n;
      if (this.off === CHUNK) this.cut();
    }
  }

  private zeros(count: number): void {
    while (count > 0) {
      const n = Math.min(count, CHUNK - this.off);
      this.buf.fill(0, this.off, this.off + n);
      this.off += n;
      count -= n;
      if (this.off === CHUNK) this.cut();
    }
  }

  /** Yields whenever chunks are ready, so that they are sent before more is read. */
  private *walk(absDir: string, relDir: string, parent: MatchState | undefined): Generator<void> {
    let entries: Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`error checking context: can't stat '${absDir}'`, { cause: e });
      return; // gone meanwhile
    }
    entries.sort(byName);
    const m = this.src.matcher;
    for (const d of entries) {
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      const abs = `${absDir}/${d.name}`;
      let state: MatchState | undefined;
      if (!m.empty) {
        state = m.state(rel, parent);
        if (m.excluded(state)) {
          // the directory itself is not sent, but what an exception re-includes below it is
          if (d.isDirectory() && m.mayIncludeUnder(rel, state)) yield* this.walk(abs, rel, state);
          continue;
        }
      }
      let st: Stats;
      try { st = lstatSync(abs); } catch { continue; }
      yield* this.entry(abs, rel, st);
      if (this.ready.length) yield;
      if (st.isDirectory()) yield* this.walk(abs, rel, state);
    }
  }

  private *entry(abs: string, rel: string, st: Stats): Generator<void> {
    const kind = kindOf(st);
    if (!kind) return;
    const h: EntryHeader = {
      name: Buffer.from(kind === 'dir' ? `${rel}/` : rel), kind, mode: st.mode & 0o7777, uid: 0, gid: 0, size: 0, mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (kind === 'symlink') {
      try { h.linkname = readlinkSync(abs, { encoding: 'buffer' }); } catch { return; }
    } else if (kind === 'char' || kind === 'block') {
      h.devmajor = major(st.rdev);
      h.devminor = minor(st.rdev);
    } else if (kind === 'file') {
      if (rel === DOCKERIGNORE && this.src.extraDockerfile) { this.sendIgnoreFile(abs, h); return; }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.links.get(key);
        if (first) { h.kind = 'link'; h.linkname = first; } else this.links.set(key, h.name);
      }
      if (h.kind === 'file') { yield* this.file(abs, st, h); return; }
    }
    this.put(encodeHeader(h));
  }

  private *file(abs: string, st: Stats, h: EntryHeader): Generator<void> {
    let fd: number;
    try {
      fd = openSync(abs, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`error checking context: no permission to read from '${abs}'`, { cause: e });
      return; // gone meanwhile
    }
    try {
      h.size = st.size;
      this.put(encodeHeader(h));
      let left = st.size;
      while (left > 0) {
        const n = readSync(fd, this.buf, this.off, Math.min(left, CHUNK - this.off), null);
        if (n === 0) break; // shrank while we read: zeros make up the size the header promised
        this.off += n;
        left -= n;
        if (this.off === CHUNK) { this.cut(); yield; }
      }
      this.zeros(left + padLength(st.size));
    } finally {
      closeSync(fd);
    }
  }

  /** .dockerignore with the added Dockerfile's name appended. */
  private sendIgnoreFile(abs: string, h: EntryHeader): void {
    const extra = this.src.extraDockerfile!;
    const body = Buffer.concat([readFileSync(abs), Buffer.from(`\n${extra.name}\n`)]);
    this.sendFile({ ...h, size: body.length }, body);
    this.ignoreSent = true;
  }

  private sendFile(h: EntryHeader, body: Buffer): void {
    this.put(encodeHeader(h));
    this.put(body);
    this.zeros(padLength(body.length));
  }

  private addGenerated(): void {
    const extra = this.src.extraDockerfile;
    if (!extra) return;
    const mtime = Math.floor((this.src.now ?? Date.now()) / 1000);
    const file = (name: string, size: number): EntryHeader => ({ name: Buffer.from(name), kind: 'file', mode: 0o600, uid: 0, gid: 0, size, mtime });
    this.sendFile(file(extra.name, extra.content.length), extra.content);
    if (!this.ignoreSent) {
      const body = Buffer.from(`${DOCKERIGNORE}\n${extra.name}\n`);
      this.sendFile(file(DOCKERIGNORE, body.length), body);
    }
  }
}

/** The context directory as a tar stream; an error while walking (an unreadable file) destroys the stream with it. */
export function packContext(src: ContextSource): ContextArchive {
  const packer = new ContextPacker(src);
  return { stream: Readable.from(packer.chunks(), { objectMode: false }), bytes: () => packer.bytes };
}

/** A tar holding one file (a Dockerfile given on stdin, as its only context). */
export function singleFileTar(name: string, content: Buffer, mtimeSeconds: number): Buffer {
  const h: EntryHeader = { name: Buffer.from(name), kind: 'file', mode: 0o644, uid: 0, gid: 0, size: content.length, mtime: mtimeSeconds };
  return Buffer.concat([encodeHeader(h), content, Buffer.alloc(padLength(content.length)), TAR_END]);
}

const COMPRESSION_MAGIC = [
  Buffer.from('BZh'), // bzip2
  Buffer.from([0x1f, 0x8b, 0x08]), // gzip
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), // xz
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), // zstd
];

/** Whether a 512-byte block is a tar header: its checksum adds up (signed or unsigned, as Go's reader accepts). */
function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK || block.subarray(0, BLOCK).every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const expected = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return expected === unsigned || expected === signed;
}

/** docker's test for a context on stdin: a compressed stream, or a tar. Anything else is a Dockerfile. */
export function isArchive(head: Buffer): boolean {
  if (COMPRESSION_MAGIC.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m))) return true;
  return isTarHeader(head);
}
