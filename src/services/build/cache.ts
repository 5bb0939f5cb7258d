// The build cache: step key → the image that step produced. A key is the parent image, the instruction as
// it was evaluated (build args included) and the content hash of what it copies, never mtimes. One small JSON
// file per entry under <data-root>/builder/cache, so the cache survives restarts and a write never rewrites
// the whole index; an entry whose image is gone is a miss.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { isFullId } from '../../util/ids.js';

export interface CacheEntry {
  key: string;
  image: string;
  /** What the step was, for `builder prune` and `system df`. */
  description: string;
  created: string;
  lastUsed: string;
}

export function cacheKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export class BuildCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly dir: string) {}

  async load(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    for (const name of await fs.readdir(this.dir)) {
      if (!isFullId(name)) { await fs.rm(join(this.dir, name), { force: true }); continue; }
      const e = await readJson<CacheEntry>(join(this.dir, name)).catch(() => undefined);
      if (e?.image) this.entries.set(name, e); else await fs.rm(join(this.dir, name), { force: true });
    }
  }

  /** The image of a step seen before, if `exists` still finds it. */
  get(key: string, exists: (image: string) => boolean): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (!exists(e.image)) { void this.drop([key]); return undefined; }
    e.lastUsed = new Date().toISOString();
    void writeJsonAtomic(join(this.dir, key), e, false).catch(() => undefined);
    return e.image;
  }

  async put(key: string, image: string, description: string): Promise<void> {
    const now = new Date().toISOString();
    const e: CacheEntry = { key, image, description, created: now, lastUsed: now };
    this.entries.set(key, e);
    // not fsynced: a cache entry lost in a crash only costs a rebuild of that step
    await writeJsonAtomic(join(this.dir, key), e, false);
  }

  all(): CacheEntry[] { return [...this.entries.values()]; }

  async drop(keys: string[]): Promise<void> {
    for (const k of keys) {
      this.entries.delete(k);
      await fs.rm(join(this.dir, k), { force: true });
    }
  }
}
