// A build context as the client sent it: the tar (decompressed) spooled once to a file and indexed in memory,
// so steps read only the files they copy, nothing is unpacked on the host, and the content hashes the cache
// keys on are computed while the tar streams in (no mtimes in them: a touched file still hits the cache).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';
import { decompressed } from '../images/decompress.js';
import { peek } from '../../util/peek.js';
import { encodeHeader, padding, TAR_END, type EntryKind } from '../../util/tar/header.js';
import { badRequest } from '../../util/errors.js';
import { globRegExp } from '../../util/glob.js';

export interface ContextEntry {
  /** Clean path relative to the context root, no leading or trailing '/'. */
  name: string;
  kind: EntryKind;
  mode: number;
  size: number;
  mtime: number;
  /** Where the body lies in the spool file (files only). */
  offset: number;
  linkname?: string;
  /** sha256 of what the entry is: body (files), target (links), mode bits. */
  hash: string;
}

const KINDS: Partial<Record<NonNullable<Header['type']>, EntryKind>> = {
  file: 'file', 'contiguous-file': 'file', directory: 'dir', symlink: 'symlink', link: 'link',
  'character-device': 'char', 'block-device': 'block', fifo: 'fifo',
};

/** Clean relative name of a tar entry; undefined for the root itself; throws for names that climb out. */
function cleanName(raw: string): string | undefined {
  const n = posix.normalize(raw.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (n === '' || n === '.') return undefined;
  if (n === '..' || n.startsWith('../')) throw badRequest(`invalid build context: entry ${raw} is outside the context`);
  return n;
}

export class ContextError extends Error {}

const GLOB = /[*?[]/;
/** How much of a file is read at once, how far ahead sequential reads go, and the size of the blocks small
 *  entries are gathered into. */
const READ_CHUNK = 1 << 20;
const READ_AHEAD = 1 << 20;
const BATCH = 256 << 10;

/**
 * Reads the spool by position. Entries are mostly asked for in the order the client sent them, so once a read
 * starts where the last one ended, it reads a window ahead and serves the next ones from memory.
 */
class SpoolReader {
  private window: Buffer = Buffer.alloc(0);
  private windowAt = 0;
  private lastEnd = -1;

  constructor(private readonly fh: fs.FileHandle) {}

  /** Exactly `n` bytes from `position`. */
  async read(n: number, position: number): Promise<Buffer> {
    const sequential = position === this.lastEnd;
    this.lastEnd = position + n;
    const inWindow = position - this.windowAt;
    if (inWindow >= 0 && inWindow + n <= this.window.length) return this.window.subarray(inWindow, inWindow + n);
    if (!sequential || n >= READ_AHEAD) return this.readExactly(n, position);
    this.window = await this.readExactly(READ_AHEAD, position, n);
    this.windowAt = position;
    return this.window.subarray(0, n);
  }

  /** `want` bytes from `position`, fewer only past the spool's end and never fewer than `need`. */
  private async readExactly(want: number, position: number, need = want): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(buf, got, want - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < need) throw new Error('build context spool ended early');
    return buf.subarray(0, got);
  }
}

export class BuildContext {
  private readonly entries = new Map<string, ContextEntry>();
  private readonly children = new Map<string, string[]>();

  private constructor(private readonly spool: string) {}

  /** Reads the request body into `dir` (created; removed by dispose). An empty body is an empty context. */
  static async receive(body: Readable, dir: string): Promise<BuildContext> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const ctx = new BuildContext(join(dir, 'context.spool'));
    const { head, stream } = await peek(body, 6);
    const out = createWriteStream(ctx.spool);
    if (head.length === 0) { stream.resume(); await new Promise<void>((r) => out.end(() => r())); return ctx; }
    const input = (await decompressed(stream)).stream;
    let offset = 0;
    const ex = tarExtract();
    ex.on('entry', (h, body, next) => {
      void (async () => {
        const name = cleanName(h.name);
        const kind = h.type ? KINDS[h.type] : undefined;
        const hash = createHash('sha256');
        let size = 0;
        const start = offset;
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (kind === 'file') {
            hash.update(chunk);
            size += chunk.length;
            if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
          }
        }
        offset += size;
        if (name === undefined || !kind) return;
        hash.update(`\0${kind}\0${(h.mode ?? 0) & 0o7777}\0${h.linkname ?? ''}`);
        ctx.add({
          name, kind, mode: (h.mode ?? 0o644) & 0o7777, size, mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000), offset: start,
          linkname: h.linkname ?? undefined, hash: hash.digest('hex'),
        });
      })().then(() => next(), (e: Error) => next(e));
    });
    try {
      await pipeline(input, ex);
    } catch (e) {
      out.destroy();
      throw e instanceof Error && 'status' in e ? e : badRequest(`invalid build context: ${(e as Error).message}`);
    }
    await new Promise<void>((r, j) => { out.once('error', j); out.end(() => r()); });
    // hard links share their target's body
    for (const e of ctx.entries.values()) {
      if (e.kind !== 'link' || !e.linkname) continue;
      const target = ctx.entries.get(cleanName(e.linkname) ?? '');
      if (target?.kind === 'file') Object.assign(e, { kind: 'file', offset: target.offset, size: target.size, hash: target.hash, linkname: undefined });
    }
    return ctx;
  }

  private add(e: ContextEntry): void {
    const parent = posix.dirname(e.name) === '.' ? '' : posix.dirname(e.name);
    if (parent && !this.entries.has(parent)) this.add({ name: parent, kind: 'dir', mode: 0o755, size: 0, mtime: e.mtime, offset: 0, hash: 'implied' });
    if (!this.entries.has(e.name)) {
      const list = this.children.get(parent) ?? [];
      list.push(e.name);
      this.children.set(parent, list);
    }
    this.entries.set(e.name, e);
  }

  get size(): number { return this.entries.size; }

  /** Leaves an entry (and what lies beneath it) out of the context. */
  remove(name: string): void {
    for (const e of [...this.walk(name)]) this.entries.delete(e.name);
    const parent = posix.dirname(name) === '.' ? '' : posix.dirname(name);
    const list = this.children.get(parent);
    if (list) this.children.set(parent, list.filter((n) => n !== name));
  }

  entry(name: string): ContextEntry | undefined { return this.entries.get(name); }

  /**
   * A source path as COPY names it, resolved inside the context: `..` that climbs out and symlinks that
   * lead outside are refused, symlinks inside are followed (the last one too, as docker's COPY does).
   * Returns '' for the context root; undefined when nothing is there.
   */
  resolve(src: string): string | undefined {
    const outside = () => new ContextError(`forbidden path outside the build context: ${src} ()`);
    const norm = posix.normalize(src);
    if (norm === '..' || norm.startsWith('../')) throw outside();
    const parts = posix.normalize(`/${src}`).split('/').filter((p) => p && p !== '.');
    let cur: string[] = [];
    let hops = 0;
    while (parts.length) {
      const p = parts.shift()!;
      if (p === '..') { if (!cur.length) throw outside(); cur.pop(); continue; }
      const name = [...cur, p].join('/');
      const e = this.entries.get(name);
      if (!e) return undefined;
      if (e.kind === 'symlink') {
        if (++hops > 40) throw new ContextError(`too many levels of symbolic links: ${src}`);
        const target = e.linkname ?? '';
        if (target.startsWith('/')) throw new ContextError(`forbidden path outside the build context: ${src} (${target})`);
        const joined = posix.normalize(cur.length ? `${cur.join('/')}/${target}` : target);
        if (joined === '..' || joined.startsWith('../')) throw new ContextError(`forbidden path outside the build context: ${src} (${target})`);
        parts.unshift(...joined.split('/').filter((x) => x && x !== '.'));
        cur = [];
        continue;
      }
      cur.push(p);
    }
    return cur.join('/');
  }

  /** Names matching a COPY wildcard (`*`, `?`, `[...]` within one path element), sorted. */
  glob(pattern: string): string[] {
    const clean = posix.normalize(`/${pattern}`).slice(1);
    if (!GLOB.test(clean)) { const r = this.resolve(pattern); return r === undefined ? [] : [r]; }
    const re = globRegExp(clean);
    if (!re) throw new ContextError(`syntax error in pattern: ${pattern}`);
    return [...this.entries.keys()].filter((n) => re.test(n)).sort();
  }

  isGlob(pattern: string): boolean { return GLOB.test(pattern); }

  /** The entry and everything beneath it (directories first), without following symlinks inside. */
  *walk(name: string): Generator<ContextEntry> {
    if (name !== '') { const e = this.entries.get(name); if (!e) return; yield e; if (e.kind !== 'dir') return; }
    for (const c of (this.children.get(name) ?? []).slice().sort()) yield* this.walk(c);
  }

  /** The whole content under `name`, as one hash (names relative to it, kinds, modes, bodies). */
  hashOf(name: string): string {
    const h = createHash('sha256');
    const base = name === '' ? 0 : name.length + 1;
    for (const e of this.walk(name)) h.update(`${e.name.slice(base)}\0${e.kind}\0${e.mode}\0${e.hash}\n`);
    return h.digest('hex');
  }

  async readFile(name: string, max = 16 << 20): Promise<Buffer> {
    const e = this.entries.get(name);
    if (!e || e.kind !== 'file') throw new ContextError(`${name}: not a file in the build context`);
    if (e.size > max) throw new ContextError(`${name} is too large (${e.size} bytes)`);
    const fh = await fs.open(this.spool, 'r');
    try {
      const buf = Buffer.alloc(e.size);
      if (e.size) await fh.read(buf, 0, e.size, e.offset);
      return buf;
    } finally { await fh.close(); }
  }

  /**
   * Tar entries of context files under new names, as COPY writes them: owned by `owner`, with `chmod` replacing
   * the permission bits when given. No end-of-archive blocks: layers are composed of them. The spool is opened
   * once, and small entries leave in blocks of BATCH bytes: a COPY of 20,000 small files would otherwise cost
   * 20,000 opens and 60,000 chunks, each handed on to the blob store and the unpacking worker.
   */
  async *tarEntries(items: Array<{ entry: ContextEntry; as: string }>, owner: { uid: number; gid: number }, chmod?: number): AsyncGenerator<Buffer> {
    const fh = await fs.open(this.spool, 'r');
    const spool = new SpoolReader(fh);
    let parts: Buffer[] = [];
    let held = 0;
    const take = () => { const b = parts.length === 1 ? parts[0] : Buffer.concat(parts, held); parts = []; held = 0; return b; };
    try {
      for (const { entry: e, as } of items) {
        if (e.kind === 'link') continue; // a hard link to nothing inside the context
        const mode = chmod !== undefined && e.kind !== 'symlink' ? chmod : e.mode;
        parts.push(encodeHeader({
          name: Buffer.from(e.kind === 'dir' ? `${as}/` : as), kind: e.kind, mode, uid: owner.uid, gid: owner.gid,
          size: e.kind === 'file' ? e.size : 0, mtime: e.mtime, linkname: e.linkname !== undefined ? Buffer.from(e.linkname) : undefined,
        }));
        held += 512;
        if (e.kind === 'file' && e.size > 0) {
          for (let done = 0; done < e.size;) {
            const n = Math.min(READ_CHUNK, e.size - done);
            parts.push(await spool.read(n, e.offset + done));
            held += n;
            done += n;
            if (held >= BATCH) yield take();
          }
          const pad = padding(e.size);
          parts.push(pad);
          held += pad.length;
        }
        if (held >= BATCH) yield take();
      }
      if (held) yield take();
    } finally { await fh.close(); }
  }

  /** A whole archive of `entries`. */
  tar(items: Array<{ entry: ContextEntry; as: string }>, owner: { uid: number; gid: number }, chmod?: number): Readable {
    const entries = this.tarEntries(items, owner, chmod);
    return Readable.from((async function* () { yield* entries; yield TAR_END; })(), { objectMode: false });
  }

  /** A file's body. */
  fileStream(e: ContextEntry): Readable {
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.spool, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 });
  }
}
