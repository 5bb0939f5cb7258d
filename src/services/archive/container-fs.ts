// A container's files as its processes see them, for docker cp: the overlay rootfs, mounted for the operation
// when the container is not running, with its volumes, bind mounts and /etc files crossed into their host
// sources at their destinations (tmpfs mounts exist only inside the container: their paths show the rootfs).
import { existsSync, fstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InRoot, type RootMount } from '../../sys/inroot.js';
import type { ContainerRecord } from '../containers/types.js';
import { ApiError } from '../../util/errors.js';

/** Who owns the rootfs mount: runs `fn` with it mounted, holding off start and removal meanwhile. */
export interface RootfsLease {
  withRootfs<T>(rec: ContainerRecord, fn: (rootfs: string) => Promise<T>): Promise<T>;
}

/** The mounts a container sees, as cp crosses them. */
export function containerMounts(rec: ContainerRecord, dir: string): RootMount[] {
  const out: RootMount[] = [];
  for (const m of rec.Mounts ?? []) {
    if (m.Type === 'tmpfs' || !m.Source) continue;
    out.push({ destination: m.Destination, source: m.Source, rw: m.RW });
  }
  // the files the engine bind-mounts over /etc (written at the first start), unless the user mounted something there
  for (const [file, destination] of [['hostname', '/etc/hostname'], ['hosts', '/etc/hosts'], ['resolv.conf', '/etc/resolv.conf']]) {
    const source = join(dir, file);
    if (!out.some((m) => m.destination === destination) && existsSync(source)) out.push({ destination, source, rw: true });
  }
  return out;
}

/** Runs `fn` on the container's files. */
export async function withContainerFs<T>(rec: ContainerRecord, dir: string, lease: RootfsLease, fn: (root: InRoot) => Promise<T>): Promise<T> {
  return lease.withRootfs(rec, async (rootfs) => {
    const root = InRoot.open(rootfs, containerMounts(rec, dir));
    try {
      // an unmounted rootfs would show the empty directory beneath it: refuse rather than serve that
      if (fstatSync(root.rootFd).dev === statSync(dir).dev) throw new ApiError(500, `the root filesystem of container ${rec.Id} is not mounted`);
      return await fn(root);
    } finally {
      root.close();
    }
  });
}
