// The registry's files. Blobs (layers, configs and manifests alike) are stored once, by digest, and shared by
// every repository; a repository sees a blob or a manifest only through its own link to it. Every write that
// replaces a file is atomic (temp file, fsync, rename, fsync of the directory).
//
//   <root>/blobs/<alg>/<hex[0:2]>/<hex>                                 content
//   <root>/repositories/<name>/_layers/<alg>/<hex>                      this repository has the blob
//   <root>/repositories/<name>/_manifests/revisions/<alg>/<hex>         ... and the manifest
//   <root>/repositories/<name>/_manifests/tags/<tag>                    the digest the tag points at
//   <root>/repositories/<name>/_manifests/referrers/<alg>/<hex>/<alg>/<hex>  a manifest whose subject is that digest
//   <root>/repositories/<name>/_uploads/<id>/data                       an upload under way (uploads.ts)
//   <root>/registry.lock, token.key, stars.json                         lock.ts, token.ts, search.ts
//
// Components of repository names start with [a-z0-9], so the "_" directories never clash with them.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type ReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { parseDigest, validName } from './names.js';

const enoent = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** The path fragment of a digest ("sha256/<hex>"); the digest was checked by parseDigest before. */
function digestPath(digest: string): string {
  const d = parseDigest(digest);
  if (!d) throw new Error(`not a digest: ${digest}`);
  return join(d.algorithm, d.hex);
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try { await h.sync(); } finally { await h.close(); }
}

async function exists(path: string): Promise<boolean> {
  try { await fs.stat(path); return true; } catch (e) { if (enoent(e)) return false; throw e; }
}

/** Remove a file; false when it was not there. */
async function remove(path: string): Promise<boolean> {
  try { await fs.unlink(path); return true; } catch (e) { if (enoent(e)) return false; throw e; }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try { return await fs.readdir(dir); } catch (e) { if (enoent(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return []; throw e; }
}

/** Digests linked under <dir>/<alg>/<hex>. */
async function linkedDigests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const alg of await readdirOrEmpty(dir)) {
    for (const hex of await readdirOrEmpty(join(dir, alg))) if (parseDigest(`${alg}:${hex}`)) out.push(`${alg}:${hex}`);
  }
  return out;
}

export class RegistryStorage {
  constructor(readonly root: string) {}

  // ---- blobs ----

  blobPath(digest: string): string {
    const d = parseDigest(digest);
    if (!d) throw new Error(`not a digest: ${digest}`);
    return join(this.root, 'blobs', d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  /** Size of the stored content, or undefined. */
  async blobSize(digest: string): Promise<number | undefined> {
    try { return (await fs.stat(this.blobPath(digest))).size; } catch (e) { if (enoent(e)) return undefined; throw e; }
  }

  /** Size of a blob this repository links, or undefined. */
  async repoBlobSize(name: string, digest: string): Promise<number | undefined> {
    if (!await exists(this.layerLink(name, digest))) return undefined;
    return this.blobSize(digest);
  }

  openBlob(digest: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.blobPath(digest), range);
  }

  readBlob(digest: string): Promise<Buffer> {
    return fs.readFile(this.blobPath(digest));
  }

  /** Move a file whose digest was verified into the store (dropping it if the content is there already). */
  async adoptBlob(file: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (await exists(target)) { await remove(file); return; }
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.rename(file, target);
    await syncDir(dirname(target));
  }

  async putBlob(data: Buffer, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (await exists(target)) return;
    await fs.mkdir(dirname(target), { recursive: true });
    await writeFileAtomic(target, data);
  }

  async removeBlob(digest: string): Promise<void> {
    await remove(this.blobPath(digest));
  }

  /** Every stored blob, for garbage collection. */
  async *blobs(): AsyncGenerator<{ digest: string; size: number }> {
    const base = join(this.root, 'blobs');
    for (const alg of await readdirOrEmpty(base)) {
      for (const fan of await readdirOrEmpty(join(base, alg))) {
        for (const hex of await readdirOrEmpty(join(base, alg, fan))) {
          const digest = `${alg}:${hex}`;
          if (!parseDigest(digest)) continue;
          const st = await fs.stat(join(base, alg, fan, hex)).catch(() => undefined);
          if (st?.isFile()) yield { digest, size: st.size };
        }
      }
    }
  }

  // ---- repositories ----

  repoDir(name: string): string {
    if (!validName(name)) throw new Error(`not a repository name: ${name}`);
    return join(this.root, 'repositories', name);
  }

  private layerLink(name: string, digest: string): string { return join(this.repoDir(name), '_layers', digestPath(digest)); }
  private revisionLink(name: string, digest: string): string { return join(this.repoDir(name), '_manifests', 'revisions', digestPath(digest)); }
  private tagFile(name: string, tag: string): string { return join(this.repoDir(name), '_manifests', 'tags', tag); }
  private referrersDir(name: string, subject: string): string { return join(this.repoDir(name), '_manifests', 'referrers', digestPath(subject)); }

  private async link(path: string, digest: string): Promise<void> {
    if (await exists(path)) return;
    await fs.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, digest);
  }

  /** A repository exists once it has a blob or a manifest. */
  async exists(name: string): Promise<boolean> {
    const dir = this.repoDir(name);
    return (await exists(join(dir, '_layers'))) || exists(join(dir, '_manifests'));
  }

  /** Every repository, sorted. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await readdirOrEmpty(dir);
      if (entries.includes('_layers') || entries.includes('_manifests')) out.push(prefix);
      for (const e of entries) if (!e.startsWith('_')) await walk(join(dir, e), prefix ? `${prefix}/${e}` : e);
    };
    await walk(join(this.root, 'repositories'), '');
    return out.filter((n) => validName(n)).sort();
  }

  linkBlob(name: string, digest: string): Promise<void> { return this.link(this.layerLink(name, digest), digest); }
  unlinkBlob(name: string, digest: string): Promise<boolean> { return remove(this.layerLink(name, digest)); }
  linkedBlobs(name: string): Promise<string[]> { return linkedDigests(join(this.repoDir(name), '_layers')); }

  // ---- manifests ----

  hasManifest(name: string, digest: string): Promise<boolean> { return exists(this.revisionLink(name, digest)); }
  linkManifest(name: string, digest: string): Promise<void> { return this.link(this.revisionLink(name, digest), digest); }
  unlinkManifest(name: string, digest: string): Promise<boolean> { return remove(this.revisionLink(name, digest)); }
  manifests(name: string): Promise<string[]> { return linkedDigests(join(this.repoDir(name), '_manifests', 'revisions')); }

  async tag(name: string, tag: string): Promise<string | undefined> {
    try {
      const d = (await fs.readFile(this.tagFile(name, tag), 'utf8')).trim();
      return parseDigest(d) ? d : undefined;
    } catch (e) { if (enoent(e)) return undefined; throw e; }
  }

  async setTag(name: string, tag: string, digest: string): Promise<void> {
    const f = this.tagFile(name, tag);
    await fs.mkdir(dirname(f), { recursive: true });
    await writeFileAtomic(f, digest);
  }

  deleteTag(name: string, tag: string): Promise<boolean> { return remove(this.tagFile(name, tag)); }

  /** Tags with when each was last moved, sorted by name. */
  async tags(name: string): Promise<Array<{ tag: string; digest: string; mtime: number }>> {
    const dir = join(this.repoDir(name), '_manifests', 'tags');
    const out: Array<{ tag: string; digest: string; mtime: number }> = [];
    for (const tag of await readdirOrEmpty(dir)) {
      if (tag.startsWith('.')) continue; // a write in progress
      const [digest, st] = await Promise.all([this.tag(name, tag), fs.stat(join(dir, tag)).catch(() => undefined)]);
      if (digest && st) out.push({ tag, digest, mtime: st.mtimeMs });
    }
    return out.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  linkReferrer(name: string, subject: string, digest: string): Promise<void> {
    return this.link(join(this.referrersDir(name, subject), digestPath(digest)), digest);
  }

  async unlinkReferrer(name: string, subject: string, digest: string): Promise<void> {
    await remove(join(this.referrersDir(name, subject), digestPath(digest)));
  }

  referrers(name: string, subject: string): Promise<string[]> { return linkedDigests(this.referrersDir(name, subject)); }
}

/** The digest of bytes, in the algorithm asked for. */
export function digestOf(data: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
