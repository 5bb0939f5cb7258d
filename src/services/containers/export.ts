// `docker export`: a tar of the container's filesystem as the container sees it (its volumes and the
// engine's bind-mounted /etc files are mounts inside the container only, so they are not in it).
// The tree is read from a mount of our own under <data-root>/mnt, never from <container>/rootfs, which
// start and exit mount and unmount under us:
//   running: a bind mount of its overlay (the same live view the container has);
//   otherwise: a read-only overlay with the upper dir as the top lower layer (nothing written, no workdir),
//   which a start meanwhile does not disturb: its own overlay gets the upper dir as usual.
import { promises as fs, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { mount, umount, MNT_DETACH, MS_BIND, MS_NODEV, MS_NOSUID, MS_RDONLY } from '../../sys/libc.js';
import { treeTar } from '../snapshots/tartree.js';
import { rootfsPaths } from './rootfs.js';
import type { ContainerRecord } from './types.js';
import { errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';

export interface ExportDeps {
  /** Where our mounts go; nothing else may use it. */
  mntRoot: string;
  dir(id: string): string;
  /** The overlay lowerdirs of the container's image, top first. */
  lowerDirs(rec: ContainerRecord): string[];
}

const exists = (p: string) => fs.access(p).then(() => true, () => false);

export class Exporter {
  private readonly ready: Promise<void>;
  private readonly empty: string;

  constructor(private readonly d: ExportDeps) {
    mkdirSync(d.mntRoot, { recursive: true, mode: 0o700 });
    this.empty = join(d.mntRoot, '.empty');
    mkdirSync(this.empty, { recursive: true, mode: 0o755 });
    this.ready = this.dropLeftovers();
  }

  /** A crashed daemon's mounts: unmounted, and their directories removed only once empty (never rm -r a mount). */
  private async dropLeftovers(): Promise<void> {
    for (const name of await fs.readdir(this.d.mntRoot)) {
      if (name === '.empty') continue;
      const p = join(this.d.mntRoot, name);
      try { umount(p, MNT_DETACH); await fs.rmdir(p); } catch (e) { log.warn('export mount leftover', { path: p, error: errorMessage(e) }); }
    }
  }

  /** The tar stream; our mount goes away when the stream ends or is destroyed. */
  async export(rec: ContainerRecord): Promise<Readable> {
    await this.ready;
    const mnt = await fs.mkdtemp(join(this.d.mntRoot, `${rec.Id.slice(0, 12)}-`));
    try {
      await this.mountView(rec, mnt);
    } catch (e) {
      await fs.rmdir(mnt).catch(() => undefined);
      throw e;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      try { umount(mnt, MNT_DETACH); } catch (e) { log.warn('export unmount', { path: mnt, error: errorMessage(e) }); }
      fs.rmdir(mnt).catch((e) => log.warn('export mount point', { path: mnt, error: errorMessage(e) }));
    };
    try {
      const tar = treeTar(mnt);
      tar.once('close', release);
      return tar;
    } catch (e) {
      release();
      throw e;
    }
  }

  private async mountView(rec: ContainerRecord, mnt: string): Promise<void> {
    const dir = this.d.dir(rec.Id);
    const p = rootfsPaths(dir);
    if (rec.State.Status === 'running' || rec.State.Status === 'paused') {
      mount(p.rootfs, mnt, null, MS_BIND, null);
      // it may have exited (and been unmounted) just before: then we bound an empty directory
      const [m, parent] = await Promise.all([fs.stat(mnt), fs.stat(dir)]);
      if (m.dev !== parent.dev) return;
      umount(mnt, MNT_DETACH);
    }
    const layers = [...((await exists(p.upper)) ? [p.upper] : []), ...this.d.lowerDirs(rec)];
    // an overlay without an upper dir needs two lower layers
    while (layers.length < 2) layers.push(this.empty);
    mount('overlay', mnt, 'overlay', MS_RDONLY | MS_NOSUID | MS_NODEV, `lowerdir=${layers.join(':')}`);
  }
}
