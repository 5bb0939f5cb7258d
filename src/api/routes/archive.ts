// /containers/{id}/archive: HEAD (stat), GET (a tar of a path), PUT (extract a tar into a directory): docker cp.
import { PassThrough } from 'node:stream';
import type { Router, Ctx } from '../router.js';
import { qbool } from '../router.js';
import type { ContainerRecord } from '../../services/containers/types.js';
import { ContainerArchive, isConsumerGone, type ArchiveDeps } from '../../services/archive/archive.js';
import type { RootfsLease } from '../../services/archive/container-fs.js';
import { badRequest } from '../../util/errors.js';
import { encodePathStat, STAT_HEADER } from '../../util/pathstat.js';

export interface ArchiveRouteDeps {
  store: { get(ref: string): ContainerRecord; dir(id: string): string };
  /** Owns the rootfs mounts (start, exit, removal); names containers in events. */
  supervisor: RootfsLease & { attrs(rec: ContainerRecord): Record<string, string> };
  events: ArchiveDeps['events'];
}

const ROUTE = /^\/containers\/(?<id>[^/]+)\/archive$/;

export function registerArchiveRoutes(r: Router, deps: ArchiveRouteDeps): void {
  const { store, supervisor, events } = deps;
  const d = { store, archive: new ContainerArchive({ store, lease: supervisor, events, attrs: (rec) => supervisor.attrs(rec) }) };
  const target = (ctx: Ctx) => {
    const rec = d.store.get(ctx.params.id);
    const path = ctx.query.get('path') ?? '';
    if (!path) throw badRequest('bad parameter: path cannot be empty');
    return { rec, path, ref: ctx.params.id };
  };

  r.head(ROUTE, async (ctx) => {
    const { rec, path, ref } = target(ctx);
    const stat = await d.archive.stat(rec, ref, path);
    ctx.res.writeHead(200, { [STAT_HEADER]: encodePathStat(stat), 'Content-Type': 'application/json' });
    ctx.res.end();
  });

  r.get(ROUTE, async (ctx) => {
    const { rec, path, ref } = target(ctx);
    try {
      await d.archive.get(rec, ref, path, (stat) => {
        ctx.res.writeHead(200, { [STAT_HEADER]: encodePathStat(stat), 'Content-Type': 'application/x-tar' });
        return ctx.res;
      });
      ctx.res.end();
    } catch (e) {
      // a client that hung up mid-archive: nothing to answer
      if (isConsumerGone(e)) { ctx.res.destroy(); return; }
      throw e;
    }
  });

  r.put(ROUTE, async (ctx) => {
    // the archive reaches the extractor through a stream of its own: giving up on it must not close the connection
    const body = ctx.req.pipe(new PassThrough({ highWaterMark: 1 << 20 }));
    try {
      const { rec, path, ref } = target(ctx);
      await d.archive.put(rec, ref, path, body, {
        noOverwriteDirNonDir: qbool(ctx.query, 'noOverwriteDirNonDir'),
        copyUIDGID: qbool(ctx.query, 'copyUIDGID'),
      });
    } catch (e) {
      // answer once the client has sent everything: one still sending would see a broken pipe, not our words
      ctx.req.unpipe(body);
      body.destroy();
      if (!ctx.req.readableEnded) await new Promise((done) => { ctx.req.once('end', done); ctx.req.once('close', done); ctx.req.resume(); });
      throw e;
    }
    ctx.res.writeHead(200, { 'Content-Length': 0 });
    ctx.res.end();
  });
}
