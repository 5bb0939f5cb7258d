// COPY and ADD into a step container's files, with docker's destination rules: a source file lands at the
// destination (or inside it, when that ends in '/' or is a directory), a source directory's contents are
// merged into it, new files are root's unless --chown says otherwise. Everything is written through the
// in-root extractor, so symlinks inside the image resolve within it and nothing lands on the host.
import { closeSync, fstatSync } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { InRoot } from '../../sys/inroot.js';
import { InRootError } from '../../sys/inroot.js';
import { encodeHeader, padding, TAR_END, type EntryHeader } from '../../util/tar/header.js';
import { extractTree, ExtractError } from '../../util/tar/extract-tree.js';
import { packTree } from '../../util/tar/pack-tree.js';
import { decompressed } from '../images/decompress.js';
import { peek } from '../../util/peek.js';
import type { BuildContext, ContextEntry } from './context.js';
import { BuildError } from './errors.js';

export interface Owner { uid: number; gid: number }

/** One thing to copy: part of the context, a file made here (heredoc, download), or an archive to unpack. */
export type CopySource =
  /** `base`: the name as written (a symlink's own name, though its target is what is copied). */
  | { kind: 'context'; name: string; entry: ContextEntry; base: string }
  | { kind: 'bytes'; name: string; data: Buffer; mode: number; mtime: number }
  | { kind: 'archive'; name: string; entry: ContextEntry };

/** docker's destination: relative to WORKDIR, the trailing '/' (it names a directory) kept. */
export function destinationPath(dest: string, workdir: string | undefined): string {
  const abs = posix.isAbsolute(dest) ? dest : posix.join(workdir || '/', dest);
  const clean = posix.normalize(abs);
  return dest.endsWith('/') || dest === '.' || dest.endsWith('/.') ? `${clean.replace(/\/+$/, '')}/` : clean;
}

function isDirIn(root: InRoot, path: string): boolean {
  try {
    const r = root.resolve(path, true);
    const dir = r.stat.isDirectory();
    closeSync(r.fd);
    return dir;
  } catch (e) {
    if (e instanceof InRootError) return false;
    throw e;
  }
}

function extractError(e: unknown): never {
  if (e instanceof ExtractError) throw new BuildError(e.message);
  throw e;
}

/**
 * The destination with the image's symlinks followed inside its root, as docker resolves it: a link to a file is
 * written through (the link stays), a dangling link's target is made. A trailing '/' (a directory) is kept.
 */
function resolveDest(root: InRoot, dest: string): string {
  const trimmed = dest.replace(/\/+$/, '') || '/';
  let p: string;
  try { p = root.resolvePath(trimmed); } catch (e) {
    if (e instanceof InRootError) throw new BuildError(e.message);
    throw e;
  }
  return dest.endsWith('/') && p !== '/' ? `${p}/` : p;
}

async function extractAt(root: InRoot, tar: Readable, owner: 'header' | Owner = 'header', dest = '/', rename?: (n: string) => string): Promise<void> {
  try {
    await extractTree(tar, { root, dest, noOverwriteDirNonDir: false, owner, rename });
  } catch (e) { extractError(e); }
}

/** A tar holding one directory entry (how a missing destination directory is made, with its owner). */
function dirTar(path: string, owner: Owner): Readable {
  return Readable.from([encodeHeader({ name: Buffer.from(`${path.replace(/^\/+/, '')}/`), kind: 'dir', mode: 0o755, uid: owner.uid, gid: owner.gid, size: 0, mtime: Math.floor(Date.now() / 1000) }), TAR_END]);
}

export async function ensureDir(root: InRoot, path: string, owner: Owner = { uid: 0, gid: 0 }): Promise<void> {
  if (path === '/' || isDirIn(root, path)) return;
  await extractAt(root, dirTar(path, owner));
}

/** Whether a context file is an archive ADD unpacks: a tar, plain or compressed. */
export async function isArchive(ctx: BuildContext, e: ContextEntry): Promise<boolean> {
  if (e.kind !== 'file' || e.size === 0) return false;
  try {
    const { stream } = await decompressed(ctx.fileStream(e));
    const { head } = await peek(stream, 512);
    stream.destroy();
    return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } catch {
    return false;
  }
}

/** COPY --from: paths of another image's files (`from`) into `root`. */
export async function copyBetween(from: InRoot, root: InRoot, srcs: string[], asked: string, o: { owner?: Owner; chmod?: number; instruction: string }): Promise<void> {
  const owner = o.owner ?? { uid: 0, gid: 0 };
  const dest = resolveDest(root, asked);
  if (srcs.length > 1 && !dest.endsWith('/')) throw new BuildError(`When using ${o.instruction} with more than one source file, the destination must be a directory and end with a /`);
  const destDir = dest.endsWith('/') || isDirIn(root, dest);
  const base = dest.replace(/\/+$/, '') || '/';
  for (const src of srcs) {
    const abs = posix.join('/', src);
    let r;
    try { r = from.resolve(abs, true); } catch (e) {
      if (e instanceof InRootError) throw new BuildError(`${o.instruction} failed: stat ${abs}: file does not exist`);
      throw e;
    }
    try {
      const isDir = fstatSync(r.fd).isDirectory();
      const top = isDir ? '.' : posix.basename(abs);
      const target = isDir ? base : destDir ? posix.join(base, posix.basename(abs)) : base;
      if (isDir || destDir) await ensureDir(root, base, owner);
      else await ensureDir(root, posix.dirname(base), owner);
      const pipe = new PassThrough({ highWaterMark: 1 << 20 });
      const rename = (n: string) => {
        const rest = n === top || n === `${top}/` ? '' : n.slice(top.length + 1);
        return posix.join(target, rest).replace(/^\/+/, '') || '.';
      };
      // packTree leaves its output open: end it here, or the extractor waits for more forever
      const packing = packTree({ fd: r.fd, name: top, path: r.path }, pipe, { owner }).then(() => { pipe.end(); }, (e: Error) => { pipe.destroy(e); throw e; });
      const applying = extractAt(root, pipe, 'header', '/', rename);
      await Promise.all([packing, applying]);
    } finally {
      closeSync(r.fd);
    }
  }
}

/** What a COPY writes, planned against the image's files: its layer, without unpacking anything first. */
export interface CopyPlan {
  /** Directories on the way: the image's own (their metadata kept, so the layer changes nothing about them) and
   *  the ones the COPY makes (0755, the owner's). */
  dirs: EntryHeader[];
  items: Array<{ entry: ContextEntry; as: string }>;
  made: Array<{ header: EntryHeader; data: Buffer }>;
  /** ADD's local archives, unpacked into `dir` (a step container does it: they are no list of files). */
  archives: ContextEntry[];
  dir: string;
}

function dirHeader(root: InRoot, rel: string, owner: Owner): EntryHeader {
  const name = Buffer.from(`${rel}/`);
  try {
    const r = root.resolve(`/${rel}`, false);
    try {
      const st = fstatSync(r.fd);
      if (st.isDirectory()) return { name, kind: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
    } finally { closeSync(r.fd); }
  } catch (e) { if (!(e instanceof InRootError)) throw e; }
  return { name, kind: 'dir', mode: 0o755, uid: owner.uid, gid: owner.gid, size: 0, mtime: Math.floor(Date.now() / 1000) };
}

/** What COPY/ADD writes (context files, heredocs, downloads, archives to unpack), with docker's destination rules. */
export function planCopy(root: InRoot, ctx: BuildContext, sources: CopySource[], asked: string, o: { owner?: Owner; chmod?: number; instruction: string; alsoDirs?: string[] }): CopyPlan {
  const owner = o.owner ?? { uid: 0, gid: 0 };
  const dest = resolveDest(root, asked);
  const destDir = dest.endsWith('/') || isDirIn(root, dest);
  if (sources.length > 1 && !dest.endsWith('/')) throw new BuildError(`When using ${o.instruction} with more than one source file, the destination must be a directory and end with a /`);
  const base = dest.replace(/\/+$/, '') || '/';
  const rel = (p: string) => p.replace(/^\/+/, '');
  const plan: CopyPlan = { dirs: [], items: [], made: [], archives: [], dir: base };
  const want = new Set<string>();
  if (destDir && base !== '/') want.add(rel(base));
  for (const d of o.alsoDirs ?? []) if (d !== '/' && !isDirIn(root, d)) want.add(rel(resolveDest(root, d)));
  for (const s of sources) {
    if (s.kind === 'archive') {
      if (base !== '/') want.add(rel(base));
      plan.archives.push(s.entry);
    } else if (s.kind === 'bytes') {
      const as = rel(destDir ? posix.join(base, s.name) : base);
      plan.made.push({ header: { name: Buffer.from(as), kind: 'file', mode: o.chmod ?? s.mode, uid: owner.uid, gid: owner.gid, size: s.data.length, mtime: s.mtime }, data: s.data });
    } else if (s.entry.kind === 'dir' || s.name === '') {
      if (base !== '/') want.add(rel(base));
      const skip = s.name === '' ? 0 : s.name.length + 1;
      for (const e of ctx.walk(s.name)) if (e.name !== s.name) plan.items.push({ entry: e, as: rel(posix.join(base, e.name.slice(skip))) });
    } else {
      plan.items.push({ entry: s.entry, as: rel(destDir ? posix.join(base, s.base) : base) });
    }
  }
  const written = new Set(plan.items.map((i) => i.as));
  for (const p of [...plan.items.map((i) => i.as), ...plan.made.map((m) => m.header.name.toString()), ...want]) {
    for (let at = p.lastIndexOf('/'); at > 0; at = p.lastIndexOf('/', at - 1)) want.add(p.slice(0, at));
  }
  plan.dirs = [...want].filter((d) => !written.has(d)).sort().map((d) => dirHeader(root, d, owner));
  return plan;
}

/** The layer of a plan without archives. */
export function layerTar(ctx: BuildContext, plan: CopyPlan, owner: Owner | undefined, chmod: number | undefined): Readable {
  return Readable.from((async function* () {
    for (const h of plan.dirs) yield encodeHeader(h);
    yield* ctx.tarEntries(plan.items, owner ?? { uid: 0, gid: 0 }, chmod);
    for (const m of plan.made) { yield encodeHeader(m.header); yield m.data; yield padding(m.data.length); }
    yield TAR_END;
  })(), { objectMode: false });
}

/** A plan carried out in a step container's files: its entries extracted, then each archive unpacked (with the
 *  ownership it records unless --chown says otherwise). */
export async function applyPlan(root: InRoot, ctx: BuildContext, plan: CopyPlan, owner: Owner | undefined, chmod: number | undefined): Promise<void> {
  await extractAt(root, layerTar(ctx, plan, owner, chmod));
  for (const a of plan.archives) {
    const r = root.resolve(plan.dir, true);
    closeSync(r.fd);
    await extractAt(root, (await decompressed(ctx.fileStream(a))).stream, owner ?? 'header', r.path);
  }
}
