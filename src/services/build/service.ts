// The build service the API talks to: receive a context, build, report the cache (`system df`), prune it.
import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Image } from '../images/types.js';
import { BuildContext } from './context.js';
import { Builder, type BuildRequest, type BuildSink, type PreparedBuild } from './builder.js';
import type { BuildCache, CacheEntry } from './cache.js';
import type { BuildEngine } from './engine.js';
import { newId } from '../../util/ids.js';

export interface PruneImages {
  list(): Image[];
  /** Deletes an untagged image nothing uses; false when it is still needed (tags, children, containers). */
  removeIfUnused(id: string): Promise<boolean>;
}

export interface BuildCacheUsage { ID: string; Type: string; Description: string; InUse: boolean; Shared: boolean; Size: number; CreatedAt: string; LastUsedAt: string; UsageCount: number }

export class BuildService {
  private readonly builder: Builder;

  constructor(private readonly d: { engine: BuildEngine; cache: BuildCache; images: PruneImages; tmpDir: string }) {
    this.builder = new Builder({ engine: d.engine, cache: d.cache });
  }

  /** The context spooled (in a directory of its own, gone with `dispose`). */
  async receive(body: Readable): Promise<{ context: BuildContext; dispose(): Promise<void> }> {
    const dir = join(this.d.tmpDir, `build-${newId().slice(0, 16)}`);
    const dispose = () => fs.rm(dir, { recursive: true, force: true });
    try {
      return { context: await BuildContext.receive(body, dir), dispose };
    } catch (e) {
      await dispose();
      throw e;
    }
  }

  prepare(req: BuildRequest): Promise<PreparedBuild> { return this.builder.prepare(req); }

  run(build: PreparedBuild, sink: BuildSink): Promise<Image> { return build.run(sink); }

  /** The size a cache entry stands for: its image's own top layer (none for config-only steps). */
  private ownSize(image: Image | undefined, byId: Map<string, Image>): number {
    if (!image) return 0;
    const parent = image.parent ? byId.get(image.parent) : undefined;
    return parent && parent.chainIds.length === image.chainIds.length ? 0 : image.layerSizes?.at(-1) ?? 0;
  }

  usage(): BuildCacheUsage[] {
    const images = this.d.images.list();
    const byId = new Map(images.map((i) => [i.id, i]));
    const tagged = new Set(images.filter((i) => i.repoTags.length).map((i) => i.id));
    return this.d.cache.all().map((e) => ({
      ID: e.key.slice(0, 25), Type: 'regular', Description: e.description, InUse: tagged.has(e.image), Shared: false,
      Size: this.ownSize(byId.get(e.image), byId), CreatedAt: e.created, LastUsedAt: e.lastUsed, UsageCount: 1,
    }));
  }

  /**
   * Drops cache entries (`all`, or those older than `until`, or whose image is gone) and deletes the step images
   * nothing else needs, newest first so children go before their parents.
   */
  async prune(o: { all: boolean; until?: number }): Promise<{ deleted: string[]; reclaimed: number }> {
    const chainSizes = (list: Image[]) => {
      const m = new Map<string, number>();
      for (const i of list) i.chainIds.forEach((c, n) => m.set(c, i.layerSizes?.[n] ?? 0));
      return m;
    };
    const before = chainSizes(this.d.images.list());
    const byId = new Map(this.d.images.list().map((i) => [i.id, i]));
    const chosen = this.d.cache.all().filter((e) => o.until === undefined || Date.parse(e.lastUsed) < o.until);
    const depth = (e: CacheEntry) => byId.get(e.image)?.config.history?.length ?? 0;
    chosen.sort((a, b) => depth(b) - depth(a));
    const deleted: string[] = [];
    for (const e of chosen) {
      const gone = !byId.has(e.image) || await this.d.images.removeIfUnused(e.image);
      if (gone || o.all) { await this.d.cache.drop([e.key]); deleted.push(e.key.slice(0, 25)); }
    }
    const after = chainSizes(this.d.images.list());
    let reclaimed = 0;
    for (const [c, size] of before) if (!after.has(c)) reclaimed += size;
    return { deleted, reclaimed };
  }
}
