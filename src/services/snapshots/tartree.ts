// Tars of a container's files: the layer a commit makes (its overlay upper dir, with overlay's deletion
// markers turned into the OCI/docker ones: a whiteout becomes an empty `.wh.NAME`, an opaque directory gets a
// `.wh..wh..opq` entry) and the flat filesystem an export streams (the merged rootfs as it is). Owners, modes,
// mtimes and extended attributes are kept; a file linked several times is stored once, then as hard links.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ReplacedError } from '../../sys/safedir.js';
import { portableXattrs } from '../../sys/xattr.js';
import { encodeHeader, padding, TAR_END, type EntryHeader as TarHeader } from '../../util/tar/header.js';
import { walkTree, type HiddenEntry, type TreeEntry } from './walk.js';

export interface TarCount { entries: number; bytes: number }

const READ_CHUNK = 1 << 20;
// a few chunks of read-ahead, so reading the files overlaps with the consumers' writes
const STREAM_BUFFER = 8 << 20;
const COALESCE = 256 << 10;
const WH_PREFIX = Buffer.from('.wh.');
const WH_OPAQUE = Buffer.from('.wh..wh..opq');

/** The layer a commit adds: the upper dir's entries (mount stubs left out), in docker's layer format. */
export function upperLayerTar(upper: string, lowers: string[], count: TarCount): Readable {
  return toStream(tarEntries(walkTree(upper, { lowers, skipMountStubs: true }), true, count));
}

/** Every file of a (merged) tree, as `docker export` streams it. */
export function treeTar(root: string, count: TarCount = { entries: 0, bytes: 0 }): Readable {
  return toStream(tarEntries(walkTree(root), false, count));
}

function toStream(gen: AsyncGenerator<Buffer>): Readable {
  return Readable.from(gen, { objectMode: false, highWaterMark: STREAM_BUFFER });
}

const vanished = (e: unknown) => e instanceof ReplacedError || ['ENOENT', 'ELOOP', 'ENOTDIR', 'ESTALE'].includes((e as NodeJS.ErrnoException).code ?? '');

const major = (dev: bigint) => Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
const minor = (dev: bigint) => Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));

function baseHeader(e: TreeEntry): Omit<TarHeader, 'name' | 'kind'> {
  const st = e.stat;
  const secs = st.mtimeNs / 1_000_000_000n - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n);
  return { mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), size: 0, mtime: Number(secs) };
}

/** An entry's header, and for a regular file with content its open file; undefined to leave it out. */
async function headerOf(e: TreeEntry, layer: boolean, firstLink: Map<string, Buffer>): Promise<{ header: TarHeader; fh?: FileHandle } | undefined> {
  const st = e.stat;
  const name = e.path.subarray(1);
  const base = baseHeader(e);
  const xattrs = () => portableXattrs(e.parent.child(e.name));
  if (layer && e.whiteout) {
    const dir = name.subarray(0, name.length - e.name.length);
    return { header: { ...base, name: Buffer.concat([dir, WH_PREFIX, e.name]), kind: 'file', mode: 0o600 } };
  }
  if (st.isDirectory()) return { header: { ...base, name: Buffer.concat([name, Buffer.from('/')]), kind: 'dir', xattrs: xattrs() } };
  if (st.isSymbolicLink()) {
    const linkname = await e.parent.readlink(e.name).catch((err: unknown) => (vanished(err) ? null : Promise.reject(err)));
    return linkname === null ? undefined : { header: { ...base, name, kind: 'symlink', linkname, xattrs: xattrs() } };
  }
  if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? firstLink.get(key) : undefined;
    if (first) return { header: { ...base, name, kind: 'link', linkname: first } };
    const header: TarHeader = { ...base, name, kind: 'file', size: Number(st.size), xattrs: xattrs() };
    // opened before its header goes out: a file replaced or removed meanwhile (a running container) is left out
    const fh = st.size > 0n ? await e.parent.openFile(e.name, st).catch((err: unknown) => (vanished(err) ? null : Promise.reject(err))) : undefined;
    if (fh === null) return undefined;
    if (st.nlink > 1n) firstLink.set(key, name);
    return { header, fh };
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return { header: { ...base, name, kind: st.isCharacterDevice() ? 'char' : 'block', devmajor: major(st.rdev), devminor: minor(st.rdev), xattrs: xattrs() } };
  }
  if (st.isFIFO()) return { header: { ...base, name, kind: 'fifo', xattrs: xattrs() } };
  return undefined; // sockets: docker leaves them out too
}

/** `size` bytes of an open file; one that shrank while we read it (a running container) is padded with zeros. */
async function* fileBody(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < size) {
    const want = Math.min(READ_CHUNK, size - pos);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    const chunk = bytesRead === 0 ? buf.fill(0) : buf.subarray(0, bytesRead);
    pos += chunk.length;
    yield chunk;
  }
}

async function* tarEntries(walk: AsyncIterable<TreeEntry | HiddenEntry>, layer: boolean, count: TarCount): AsyncGenerator<Buffer> {
  const firstLink = new Map<string, Buffer>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = (): Buffer[] => {
    if (pendingBytes === 0) return [];
    const out = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return [out];
  };
  // many small pieces (headers, small files) go out together; big reads go out as they come
  const put = (b: Buffer): Buffer[] => {
    count.bytes += b.length;
    if (b.length >= COALESCE) return [...flush(), b];
    pending.push(b);
    pendingBytes += b.length;
    return pendingBytes >= COALESCE ? flush() : [];
  };

  for await (const item of walk) {
    if (item.hidden) continue;
    const made = await headerOf(item, layer, firstLink);
    if (!made) continue;
    try {
      count.entries++;
      yield* put(encodeHeader(made.header));
      if (made.fh) {
        for await (const chunk of fileBody(made.fh, made.header.size)) yield* put(chunk);
        yield* put(padding(made.header.size));
      }
    } finally {
      await made.fh?.close();
    }
    if (layer && item.opaque) {
      const base = baseHeader(item);
      count.entries++;
      yield* put(encodeHeader({ ...base, name: Buffer.concat([item.path.subarray(1), Buffer.from('/'), WH_OPAQUE]), kind: 'file', mode: base.mode & 0o777 }));
    }
  }
  yield* put(TAR_END);
  yield* flush();
}
