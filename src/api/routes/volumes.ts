// /volumes: list (docker's filters), create, inspect, remove (refused while in use), prune.
import type { ContainerMounts } from '../../services/volumes/mounts.js';
import type { VolumeRecord, VolumeStore } from '../../services/volumes/store.js';
import { badRequest } from '../../util/errors.js';
import { Router, labelsMatch, qbool, qfilters, readJsonBody, sendJson, sendNoContent } from '../router.js';

export interface VolumeRouteDeps {
  volumes: VolumeStore;
  mounts: ContainerMounts;
  /** Kept sizes (volume name → bytes), re-measured when a container using the volume changes state. */
  sizes: { size(key: string, dir: string, live: boolean): Promise<number> };
}

/** A volume as the Engine API shows it, its fields in docker's order (the docker CLI prints them so). */
function volumeView(d: VolumeRouteDeps, v: VolumeRecord) {
  return {
    CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: d.volumes.dataDir(v.Name), Name: v.Name,
    Options: Object.keys(v.Options).length ? v.Options : null, Scope: 'local',
  };
}

/** system df's volumes: each with its size and how many containers use it. */
export async function volumesWithUsage(d: VolumeRouteDeps) {
  return Promise.all(d.volumes.all().map(async (v) => {
    const users = d.mounts.users(v.Name);
    const live = users.some((c) => c.State.Status === 'running' || c.State.Status === 'paused');
    return { ...volumeView(d, v), UsageData: { Size: await d.sizes.size(v.Name, d.volumes.dataDir(v.Name), live), RefCount: users.length } };
  }));
}

export function registerVolumeRoutes(r: Router, d: VolumeRouteDeps): void {
  const view = (v: VolumeRecord) => volumeView(d, v);

  r.get(/^\/volumes\/?$/, async (ctx) => {
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!['dangling', 'label', 'name', 'driver'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    for (const v of f.dangling ?? []) if (!['true', 'false', '1', '0'].includes(v)) throw badRequest(`invalid filter 'dangling=${v}'`);
    const any = (k: string, test: (v: string) => boolean) => !f[k]?.length || f[k].some(test);
    const list = d.volumes.all().filter((v) => any('name', (x) => v.Name.includes(x))
      && any('driver', (x) => v.Driver === x)
      && (!f.label?.length || labelsMatch(v.Labels, f.label))
      && any('dangling', (x) => (x === 'true' || x === '1') === (d.mounts.users(v.Name).length === 0)));
    sendJson(ctx.res, 200, { Volumes: list.sort((a, b) => a.Name.localeCompare(b.Name)).map(view), Warnings: [] });
  });

  r.post(/^\/volumes\/create$/, async (ctx) => {
    const body = (await readJsonBody<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }>(ctx.req)) ?? {};
    const v = await d.volumes.create({ name: body.Name, driver: body.Driver, options: body.DriverOpts ?? undefined, labels: body.Labels ?? undefined });
    sendJson(ctx.res, 201, view(v));
  });

  r.get(/^\/volumes\/(?<name>[^/]+)$/, async (ctx) => {
    sendJson(ctx.res, 200, view(d.volumes.get(ctx.params.name)));
  });

  r.delete(/^\/volumes\/(?<name>[^/]+)$/, async (ctx) => {
    const force = qbool(ctx.query, 'force');
    // -f: a volume that does not exist is not an error; one in use still is
    if (force && !d.volumes.find(ctx.params.name)) { sendNoContent(ctx.res); return; }
    await d.mounts.removeVolume(ctx.params.name);
    sendNoContent(ctx.res);
  });

  r.post(/^\/volumes\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!['label', 'label!', 'all'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    // since API 1.42 only anonymous volumes go, unless all=true
    const all = (f.all ?? []).some((v) => v === 'true' || v === '1');
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of d.volumes.all()) {
      if ((!all && !v.Anonymous) || d.mounts.users(v.Name).length) continue;
      if (!labelsMatch(v.Labels, f.label ?? []) || (f['label!'] ?? []).some((l) => labelsMatch(v.Labels, [l]))) continue;
      reclaimed += await d.sizes.size(v.Name, d.volumes.dataDir(v.Name), false);
      await d.volumes.remove(v.Name);
      deleted.push(v.Name);
    }
    sendJson(ctx.res, 200, { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
}
