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
   * the permission bits when given. No end-of-archive blocks: layers are composed of them.
   */
  async *tarEntries(items: Array<{ entry: ContextEntry; as: string }>, owner: { uid: number; gid: number }, chmod?: number): AsyncGenerator<Buffer> {
    for (const { entry: e, as } of items) {
      if (e.kind === 'link') continue; // a hard link to nothing inside the context
      const mode = chmod !== undefined && e.kind !== 'symlink' ? chmod : e.mode;
      yield encodeHeader({
        name: Buffer.from(e.kind === 'dir' ? `${as}/` : as), kind: e.kind, mode, uid: owner.uid, gid: owner.gid,
        size: e.kind === 'file' ? e.size : 0, mtime: e.mtime, linkname: e.linkname !== undefined ? Buffer.from(e.linkname) : undefined,
      });
      if (e.kind === 'file' && e.size > 0) {
        for await (const chunk of this.fileStream(e)) yield chunk as Buffer;
        yield padding(e.size);
      }
    }
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
