// GET /system/df: images with shared sizes and container counts, containers with their writable-layer sizes
// (kept by the sizes tracker, so this answers without walking the disk), volumes and build cache.
import { Router, sendJson } from '../router.js';
import { badRequest } from '../../util/errors.js';
import type { ContainerStore } from '../../services/containers/store.js';
import type { ContainerRecord } from '../../services/containers/types.js';
import type { ImageService } from '../../services/images/types.js';
import { summaryView } from './containers-view.js';
import { layerSizes, summary } from './images.js';

export interface DiskUsageDeps {
  store: ContainerStore;
  images: ImageService;
  sizes: { rw(rec: ContainerRecord): Promise<number> };
  /** Volumes with UsageData (size, containers using them). */
  volumes: () => Promise<unknown[]>;
  /** Build cache entries in docker's BuildCache shape. */
  buildCache: () => unknown[];
}

const TYPES = ['container', 'image', 'volume', 'build-cache'];

export function registerDiskUsageRoutes(r: Router, d: DiskUsageDeps): void {
  r.get(/^\/system\/df$/, async (ctx) => {
    const asked = ctx.query.getAll('type');
    for (const t of asked) if (!TYPES.includes(t)) throw badRequest(`unknown object type: ${t}`);
    const want = (t: string) => asked.length === 0 || asked.includes(t);
    const containers = d.store.all();
    const out: Record<string, unknown> = {};
    if (want('image')) {
      const list = d.images.list();
      const sizes = layerSizes(list);
      const users = new Map<string, number>();
      for (const chain of list.flatMap((i) => i.chainIds)) users.set(chain, (users.get(chain) ?? 0) + 1);
      const byImage = new Map<string, number>();
      for (const c of containers) byImage.set(c.Image, (byImage.get(c.Image) ?? 0) + 1);
      out.LayersSize = [...sizes.values()].reduce((a, b) => a + b, 0);
      out.Images = list.map((i) => ({
        ...summary(i, ctx.version),
        SharedSize: i.chainIds.filter((c) => (users.get(c) ?? 0) > 1).reduce((a, c) => a + (sizes.get(c) ?? 0), 0),
        Containers: byImage.get(i.id) ?? 0,
      }));
    }
    if (want('container')) {
      out.Containers = await Promise.all(containers.map(async (c) => {
        const rw = await d.sizes.rw(c);
        return summaryView(c, c.Config.Image ?? c.Image, { rw, rootfs: rw + (d.images.resolve(c.Image)?.size ?? 0) });
      }));
    }
    if (want('volume')) out.Volumes = await d.volumes();
    if (want('build-cache')) out.BuildCache = d.buildCache();
    sendJson(ctx.res, 200, out);
  });
}
