// GET /containers/{id}/changes (docker diff), POST /commit (docker commit), GET /containers/{id}/export.
import { access } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { qbool, readJsonBody, sendJson, type Router } from '../router.js';
import type { ContainerStore } from '../../services/containers/store.js';
import type { ContainerConfig, ContainerRecord } from '../../services/containers/types.js';
import type { ContentStore } from '../../services/content/types.js';
import type { SnapshotStore } from '../../services/snapshots/types.js';
import type { EventBus } from '../../services/events/bus.js';
import { Committer, type CommitImages } from '../../services/containers/commit.js';
import { Exporter } from '../../services/containers/export.js';
import { rootfsPaths } from '../../services/containers/rootfs.js';
import { overlayChanges } from '../../services/snapshots/diff.js';
import { normalizeRef, parseReference } from '../../services/images/reference.js';
import { ApiError, badRequest } from '../../util/errors.js';

export interface CommitRouteDeps {
  store: ContainerStore;
  images: CommitImages;
  content: ContentStore;
  snapshots: SnapshotStore;
  events: EventBus;
  supervisor: { pause(rec: ContainerRecord): Promise<void>; unpause(rec: ContainerRecord): Promise<void>; attrs(rec: ContainerRecord): Record<string, string> };
  /** Exports mount the container's files under <mntRoot>. */
  mntRoot: string;
}

/** docker's repo/tag pair: no repo, no tag; a digest is refused; the tag defaults to latest. */
export function commitTag(repo: string, tag: string): string | undefined {
  if (!repo) return undefined;
  const r = parseReference(repo);
  if (r.digest !== undefined) throw badRequest('refusing to create a tag with a digest reference');
  const t = tag || r.tag || 'latest';
  if (!/^[\w][\w.-]{0,127}$/.test(t)) throw badRequest(`invalid tag format: ${t}`);
  return normalizeRef(`${repo.slice(0, r.tag !== undefined ? repo.lastIndexOf(':') : repo.length)}:${t}`);
}

export function registerCommitRoutes(r: Router, d: CommitRouteDeps): void {
  const imageOf = (rec: ContainerRecord) => {
    const image = d.images.resolve(rec.Image);
    if (!image) throw new ApiError(404, `No such image: ${rec.Config.Image ?? rec.Image}`);
    return image;
  };
  const committer = new Committer({
    dir: (id) => d.store.dir(id), images: d.images, content: d.content, snapshots: d.snapshots, events: d.events,
    pause: (rec) => d.supervisor.pause(rec), unpause: (rec) => d.supervisor.unpause(rec), attrs: (rec) => d.supervisor.attrs(rec),
  });
  const exporter = new Exporter({ mntRoot: d.mntRoot, dir: (id) => d.store.dir(id), lowerDirs: (rec) => d.images.lowerDirs(imageOf(rec)) });

  r.get(/^\/containers\/(?<id>[^/]+)\/changes$/, async (ctx) => {
    const rec = d.store.get(ctx.params.id);
    const upper = rootfsPaths(d.store.dir(rec.Id)).upper;
    const lowers = d.images.lowerDirs(imageOf(rec));
    // a container never started has no upper dir yet: nothing changed
    const changes = await access(upper).then(() => overlayChanges(upper, lowers), () => []);
    sendJson(ctx.res, 200, changes);
  });

  r.post(/^\/commit$/, async (ctx) => {
    const q = ctx.query;
    // like docker, the reference is checked before the container is looked up
    const tag = commitTag(q.get('repo') ?? '', q.get('tag') ?? '');
    const body = await readJsonBody<ContainerConfig | null>(ctx.req);
    if (body !== null && (typeof body !== 'object' || Array.isArray(body))) throw badRequest('invalid container config in the request body');
    const rec = d.store.get(q.get('container') ?? '');
    const image = await committer.commit(rec, {
      tag,
      author: q.get('author') ?? undefined,
      comment: q.get('comment') ?? undefined,
      changes: q.getAll('changes'),
      pause: qbool(q, 'pause', true),
      config: body,
    });
    sendJson(ctx.res, 201, { Id: image.id });
  });

  r.get(/^\/containers\/(?<id>[^/]+)\/export$/, async (ctx) => {
    const rec = d.store.get(ctx.params.id);
    if (rec.State.Status === 'removing') throw new ApiError(409, `container ${rec.Id} is being removed`);
    const tar = await exporter.export(rec);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    try {
      await pipeline(tar, ctx.res);
    } catch (e) {
      tar.destroy();
      ctx.res.destroy(e as Error); // headers are gone: a cut stream is how the client learns
    }
  });
}
