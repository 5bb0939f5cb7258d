// A new layer from a tar stream: the tar goes at once into the blob store (save and push need it) and into a
// snapshot on top of its parent (what containers mount), so it is read once and both writes overlap. Used by
// commit (a container's changes) and by builds (COPY's files, written straight from the context).
import { PassThrough, type Readable } from 'node:stream';
import type { ContentStore } from '../content/types.js';
import type { SnapshotStore } from './types.js';
import { ApiError, errorMessage } from '../../util/errors.js';

export interface LayerWriterDeps {
  content: ContentStore;
  snapshots: SnapshotStore;
  /** Removes a blob / snapshot this write made, unless an image uses it (the same layer may exist already). */
  dropBlob(digest: string): Promise<void>;
  dropSnapshot(chainId: string): Promise<void>;
}

export interface Layer { diffId: string; chainId: string }

/** Writer deps whose drops spare what an image of `images` still uses. */
export function layerWriterDeps(d: { content: ContentStore; snapshots: SnapshotStore; images: { list(): Array<{ chainIds: string[]; config: { rootfs: { diff_ids: string[] } } }> } }): LayerWriterDeps {
  return {
    content: d.content,
    snapshots: d.snapshots,
    dropBlob: async (digest) => {
      if (!d.images.list().some((i) => i.config.rootfs.diff_ids.includes(digest))) await d.content.delete(digest).catch(() => undefined);
    },
    dropSnapshot: async (chainId) => {
      if (!d.images.list().some((i) => i.chainIds.includes(chainId))) await d.snapshots.remove(chainId).catch(() => undefined);
    },
  };
}

export async function writeLayer(d: LayerWriterDeps, parentChain: string | undefined, tar: Readable, what = 'layer'): Promise<Layer> {
  const toBlob = new PassThrough({ highWaterMark: 8 << 20 });
  const toSnapshot = new PassThrough({ highWaterMark: 8 << 20 });
  const fail = (e: Error) => { for (const s of [tar, toBlob, toSnapshot]) s.destroy(e); };
  tar.once('error', fail);
  tar.pipe(toBlob);
  tar.pipe(toSnapshot);
  const blob = d.content.ingest(toBlob);
  const snap = d.snapshots.applyLayer(parentChain, toSnapshot);
  blob.catch(fail);
  snap.catch(fail);
  const [b, s] = await Promise.allSettled([blob, snap]);
  if (b.status === 'rejected' || s.status === 'rejected') {
    if (b.status === 'fulfilled') await d.dropBlob(b.value.digest);
    if (s.status === 'fulfilled') await d.dropSnapshot(s.value.chainId);
    const reason = (b.status === 'rejected' ? b.reason : (s as PromiseRejectedResult).reason) as Error;
    throw reason instanceof ApiError ? reason : new ApiError(500, `${what} failed: ${errorMessage(reason)}`);
  }
  const layer = { diffId: s.value.diffId, chainId: s.value.chainId };
  if (b.value.digest !== layer.diffId) {
    await d.dropBlob(b.value.digest);
    await d.dropSnapshot(layer.chainId);
    throw new ApiError(500, `${what} failed: layer digests differ (${b.value.digest} vs ${layer.diffId})`);
  }
  return layer;
}
