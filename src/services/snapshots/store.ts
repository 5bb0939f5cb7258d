// Each layer is unpacked once, alone, into <root>/<chainhex>/fs (an overlay lowerdir), with its
// metadata beside it in meta.json. Unpacking happens in <root>/tmp/ and the finished directory is
// renamed into place, so a chain directory is either complete or absent.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import { markTopDirectory } from '../../sys/libc.js';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { readJsonSync, writeJsonAtomic } from '../../util/atomic.js';
import { badRequest, notFound } from '../../util/errors.js';
import type { ApplyLimits } from './apply.js';
import { ApplyPool } from './apply-pool.js';
import type { ApplyOptions, SnapshotStore } from './types.js';

export interface SnapshotMeta {
  chainId: string;
  diffId: string;
  parent?: string;
  size: number;
  created: string;
}

export type DirSnapshotOptions = Partial<ApplyLimits>;

const HEX_DIGEST = /^sha256:([a-f0-9]{64})$/;

/** chain(L0) = diff(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)) (OCI image spec). */
export function chainId(parent: string | undefined, diffId: string): string {
  if (!parent) return diffId;
  return `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`;
}

function hexOf(id: string): string {
  const m = HEX_DIGEST.exec(id);
  if (!m) throw badRequest(`invalid chain ID: ${id}`);
  return m[1];
}

export class DirSnapshotStore implements SnapshotStore {
  private readonly tmpDir: string;
  private readonly limits: ApplyLimits;
  private readonly metas = new Map<string, SnapshotMeta>();
  private readonly workers = new ApplyPool();

  constructor(readonly root: string, opts: DirSnapshotOptions = {}) {
    this.tmpDir = join(root, 'tmp');
    this.limits = { maxBytes: opts.maxBytes ?? 64 * 1024 ** 3, maxEntries: opts.maxEntries ?? 2_000_000 };
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    // each layer unpacked in a block group of its own, away from the inodes of layers just removed
    markTopDirectory(this.tmpDir);
  }

  async applyLayer(parentChainId: string | undefined, tar: Readable, opts: ApplyOptions = {}): Promise<{ diffId: string; chainId: string; size: number }> {
    if (parentChainId !== undefined && !opts.parentMayBeMissing && !this.has(parentChainId)) throw notFound(`parent snapshot ${parentChainId} not found`);
    const work = join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    await fs.mkdir(work, { mode: 0o700 });
    try {
      const fsDir = join(work, 'fs');
      await fs.mkdir(fsDir, { mode: 0o755 });
      const r = await this.workers.apply(fsDir, tar, this.limits, opts.compression);
      if (opts.expectDiffId && r.diffId !== opts.expectDiffId) throw badRequest(`layer content ${r.diffId} does not match the DiffID ${opts.expectDiffId} in the image config`);
      const id = chainId(parentChainId, r.diffId);
      if (this.has(id)) return { diffId: r.diffId, chainId: id, size: this.size(id) };
      const meta: SnapshotMeta = { chainId: id, diffId: r.diffId, parent: parentChainId, size: r.size, created: new Date().toISOString() };
      await writeJsonAtomic(join(work, 'meta.json'), meta);
      try {
        await fs.rename(work, this.chainDir(id));
      } catch (e) {
        // Someone else committed the same chain meanwhile: theirs is as good as ours.
        const code = (e as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && this.has(id)) return { diffId: r.diffId, chainId: id, size: this.size(id) };
        throw e;
      }
      this.metas.set(id, meta);
      await syncDir(this.root);
      return { diffId: r.diffId, chainId: id, size: r.size };
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }

  has(chainId: string): boolean {
    return HEX_DIGEST.test(chainId) && existsSync(join(this.chainDir(chainId), 'meta.json'));
  }

  dir(chainId: string): string {
    return join(this.chainDir(chainId), 'fs');
  }

  meta(chainId: string): SnapshotMeta {
    let m = this.metas.get(chainId);
    if (!m) {
      m = readJsonSync<SnapshotMeta>(join(this.chainDir(chainId), 'meta.json'));
      if (!m) throw notFound(`snapshot ${chainId} not found`);
      this.metas.set(chainId, m);
    }
    return m;
  }

  size(chainId: string): number {
    return this.meta(chainId).size;
  }

  async remove(chainId: string): Promise<void> {
    this.metas.delete(chainId);
    const dir = this.chainDir(chainId);
    if (!existsSync(dir)) return;
    // Rename first so a half-deleted tree is never mistaken for a snapshot.
    const trash = join(this.tmpDir, `rm-${hexOf(chainId)}-${randomBytes(4).toString('hex')}`);
    await fs.rename(dir, trash);
    await fs.rm(trash, { recursive: true, force: true });
  }

  /** Chain IDs present on disk. */
  async list(): Promise<string[]> {
    const names = await fs.readdir(this.root);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`).filter((id) => this.has(id));
  }

  /** Remove unpack leftovers from a crash (call at startup, before any apply runs). */
  async cleanTmp(): Promise<void> {
    for (const n of await fs.readdir(this.tmpDir)) await fs.rm(join(this.tmpDir, n), { recursive: true, force: true });
  }

  private chainDir(chainId: string): string {
    return join(this.root, hexOf(chainId));
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}
