// `docker commit`: a new image = the container's image + one layer made from its upper dir. The layer tar is
// made once and streamed at the same time into the blob store (save and push need the tar) and into a new
// snapshot (what containers of the new image mount), so the files are read once and both writes overlap.
import { promises as fs } from 'node:fs';
import type { ContentStore } from '../content/types.js';
import type { SnapshotStore } from '../snapshots/types.js';
import type { Image } from '../images/types.js';
import type { EventBus } from '../events/bus.js';
import { upperLayerTar, type TarCount } from '../snapshots/tartree.js';
import { layerWriterDeps, writeLayer, type LayerWriterDeps } from '../snapshots/layer-writer.js';
import { walkTree } from '../snapshots/walk.js';
import { rootfsPaths } from './rootfs.js';
import { commitConfigDoc, commitRunConfig, type CommitMeta } from './commit-config.js';
import type { ContainerRecord } from './types.js';
import { ApiError, conflict, errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';

export interface CommitImages {
  resolve(ref: string): Image | undefined;
  list(): Image[];
  lowerDirs(image: Image): string[];
  addImage(configBytes: Buffer, opts: { parent?: string }): Promise<Image>;
  tag(ref: string, target: string): Promise<void>;
}

export interface CommitDeps {
  dir(id: string): string;
  images: CommitImages;
  content: ContentStore;
  snapshots: SnapshotStore;
  events: EventBus;
  pause(rec: ContainerRecord): Promise<void>;
  unpause(rec: ContainerRecord): Promise<void>;
  attrs(rec: ContainerRecord): Record<string, string>;
}

export interface CommitOptions extends CommitMeta {
  /** Normalised "repo:tag" to tag the image with. */
  tag?: string;
  /** Freeze a running container while its files are read (docker's default). */
  pause: boolean;
}

export class Committer {
  /** One commit per container at a time: a second one must not unpause the container under the first. */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly d: CommitDeps) {}

  async commit(rec: ContainerRecord, o: CommitOptions): Promise<Image> {
    const prev = this.busy.get(rec.Id) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.commitLocked(rec, o));
    this.busy.set(rec.Id, run);
    try {
      return await run;
    } finally {
      if (this.busy.get(rec.Id) === run) this.busy.delete(rec.Id);
    }
  }

  private async commitLocked(rec: ContainerRecord, o: CommitOptions): Promise<Image> {
    if (rec.State.Status === 'removing') throw conflict(`You cannot commit container ${rec.Id} which is being removed`);
    if (rec.State.Status === 'dead') throw conflict(`You cannot commit container ${rec.Id} which is Dead`);
    const parent = this.d.images.resolve(rec.Image);
    if (!parent) throw new ApiError(404, `No such image: ${rec.Config.Image ?? rec.Image}`);
    // the config first: a bad --change must fail before anything is paused or written
    const runConfig = commitRunConfig(rec, o);
    const paused = o.pause && rec.State.Status === 'running';
    if (paused) await this.d.pause(rec);
    let layer: { diffId: string; chainId: string } | undefined;
    const t0 = performance.now();
    try {
      layer = await this.makeLayer(rec, parent);
    } finally {
      if (paused) await this.d.unpause(rec).catch((e) => log.warn('unpause after commit', { id: rec.Id, error: errorMessage(e) }));
    }
    const t1 = performance.now();
    const doc = commitConfigDoc(rec, parent, runConfig, o, layer?.diffId);
    let image: Image;
    try {
      image = await this.d.images.addImage(Buffer.from(JSON.stringify(doc)), { parent: parent.id });
    } catch (e) {
      if (layer) await this.dropLayer(layer);
      throw e;
    }
    if (o.tag) {
      await this.d.images.tag(image.id, o.tag);
      this.d.events.publish('image', 'tag', image.id, { name: o.tag });
    }
    log.debug('commit', { id: rec.Id.slice(0, 12), layerMs: Math.round(t1 - t0), imageMs: Math.round(performance.now() - t1), paused });
    this.d.events.publish('container', 'commit', rec.Id, { ...this.d.attrs(rec), comment: o.comment ?? '', imageID: image.id, imageRef: o.tag ?? '' });
    return image;
  }

  /** The container's changes as a new layer on top of its image's, or undefined when it changed nothing. */
  private async makeLayer(rec: ContainerRecord, parent: Image): Promise<{ diffId: string; chainId: string } | undefined> {
    const upper = rootfsPaths(this.d.dir(rec.Id)).upper;
    const lowers = this.d.images.lowerDirs(parent);
    if (!(await hasChanges(upper, lowers))) return undefined;
    const count: TarCount = { entries: 0, bytes: 0 };
    const layer = await writeLayer(this.layerDeps, parent.chainIds.at(-1), upperLayerTar(upper, lowers, count), 'commit');
    // everything it had was a mount stub: an empty layer, which docker leaves out
    if (count.entries === 0) { await this.dropLayer(layer); return undefined; }
    return layer;
  }

  private get layerDeps(): LayerWriterDeps { return layerWriterDeps(this.d); }

  private async dropLayer(l: { diffId: string; chainId: string }): Promise<void> {
    await this.layerDeps.dropBlob(l.diffId);
    await this.layerDeps.dropSnapshot(l.chainId);
  }
}

/** Whether the upper dir holds anything but mount stubs (a never-started container has none at all). */
async function hasChanges(upper: string, lowers: string[]): Promise<boolean> {
  try { await fs.access(upper); } catch { return false; }
  const it = walkTree(upper, { lowers, skipMountStubs: true });
  try {
    return !(await it.next()).done;
  } finally {
    await it.return(undefined);
  }
}

