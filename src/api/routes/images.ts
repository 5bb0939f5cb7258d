// /images/*: maps the ImageService onto docker's ImageSummary / ImageInspect / history shapes.
// Image names contain '/' and ':', so every {name} pattern is greedy and anchored on its suffix.
import type { ServerResponse } from 'node:http';
import { Router, qbool, qfilters, sendJson, pruneUntil, readJsonBody, labelsMatch, type Ctx } from '../router.js';
import type { Image, ImageService, RemoveResult } from '../../services/images/types.js';
import { badRequest, noSuchImage, notFound } from '../../util/errors.js';
import type { Puller, ProgressMessage } from '../../services/images/pull.js';
import type { Pusher } from '../../services/images/push.js';
import type { ImageArchives } from '../../services/images/archive.js';
import { decodeRegistryAuth, type Credentials } from '../../services/registry/auth.js';
import { familiarString, normalizeRef, parseReference, withDefaultTag } from '../../services/images/reference.js';
import type { EventBus } from '../../services/events/bus.js';
import { globRegExp } from '../../util/glob.js';

export interface ImageRouteDeps {
  images: ImageService;
  puller: Pick<Puller, 'pull' | 'pullAllTags' | 'search'>;
  pusher: Pick<Pusher, 'push'>;
  archives: Pick<ImageArchives, 'save' | 'load'>;
  /** Throws unless the registry at `server` accepts the credentials. */
  checkLogin: (server: string, creds: Credentials) => Promise<void>;
  /** ID of a container using the image, if any (rmi refuses without force). */
  imageInUse: (imageId: string) => string | undefined;
  events: Pick<EventBus, 'publish'>;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
const unix = (iso: string | undefined) => (iso ? Math.floor(Date.parse(iso) / 1000) || 0 : 0);

function globToRegExp(glob: string): RegExp {
  const re = globRegExp(glob);
  if (!re) throw badRequest(`invalid reference filter: ${glob}`);
  return re;
}

/** The image narrowed to its references that match (docker lists only those), or undefined. */
function matchReference(img: Image, patterns: string[]): Image | undefined {
  const res = patterns.map(globToRegExp);
  const hit = (t: string) => {
    const repo = t.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
    return res.some((re) => re.test(repo) || re.test(t));
  };
  const repoTags = img.repoTags.filter(hit);
  const repoDigests = img.repoDigests.filter(hit);
  return repoTags.length || repoDigests.length ? { ...img, repoTags, repoDigests } : undefined;
}

const matchesLabels = (img: Image, wanted: string[]) => labelsMatch(img.config.config.Labels ?? {}, wanted);

/** Unpacked size of every layer (by chain ID) the images use. */
export function layerSizes(list: Image[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of list) i.chainIds.forEach((c, n) => m.set(c, i.layerSizes?.[n] ?? 0));
  return m;
}

/**
 * POST /images/create?fromImage: progress streams as JSON messages. Until the first message the answer is still
 * open, so an early failure (no such manifest, bad credentials) is a plain HTTP error, as docker does.
 */
async function pullStream(ctx: Ctx, deps: ImageRouteDeps, fromImage: string, tag: string): Promise<void> {
  const creds = registryAuth(ctx);
  const platform = ctx.query.get('platform') || undefined;
  const ref = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
  const parsed = parseReference(ref);
  await progressStream(ctx, async (progress) => {
    if (!tag && !parsed.tag && !parsed.digest) await deps.puller.pullAllTags(ref, { creds, platform, progress });
    else await deps.puller.pull(ref, { creds, platform, progress });
    // docker names the pulled reference, familiar and tagged, as the event's actor
    const name = familiarString(withDefaultTag(parsed));
    deps.events.publish('image', 'pull', name, { name });
  });
}

/** Run `work` with a progress callback that opens the JSON stream on its first message; later errors go in it. */
async function progressStream(ctx: Ctx, work: (progress: (m: ProgressMessage) => void) => Promise<void>): Promise<void> {
  let started = false;
  const progress = (m: ProgressMessage) => {
    if (!started) { ctx.res.writeHead(200, { 'Content-Type': 'application/json' }); started = true; }
    if (!ctx.res.destroyed) ctx.res.write(`${JSON.stringify(m)}\n`);
  };
  try {
    await work(progress);
  } catch (e) {
    if (!started) throw e;
    const message = (e as Error).message;
    ctx.res.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
  }
  ctx.res.end();
}

/** The credentials a client sent for the registry (docker's X-Registry-Auth). */
function registryAuth(ctx: Ctx): Credentials | undefined {
  const h = ctx.req.headers['x-registry-auth'];
  return decodeRegistryAuth(Array.isArray(h) ? h[0] : h);
}

const FILTERS = new Set(['reference', 'dangling', 'label', 'before', 'since']);

function filterImages(images: ImageService, list: Image[], filters: Record<string, string[]>): Image[] {
  for (const k of Object.keys(filters)) if (!FILTERS.has(k)) throw badRequest(`invalid filter '${k}'`);
  let out = list;
  const dangling = filters.dangling;
  if (dangling?.length) {
    const v = dangling[dangling.length - 1].toLowerCase();
    if (!['true', 'false', '1', '0'].includes(v)) throw badRequest(`invalid filter 'dangling=${dangling[0]}'`);
    const want = v === 'true' || v === '1';
    out = out.filter((i) => (i.repoTags.length === 0) === want);
  }
  if (filters.reference?.length) out = out.flatMap((i) => matchReference(i, filters.reference) ?? []);
  if (filters.label?.length) out = out.filter((i) => matchesLabels(i, filters.label));
  for (const [key, keep] of [['before', (a: number, b: number) => a < b], ['since', (a: number, b: number) => a > b]] as const) {
    for (const ref of filters[key] ?? []) {
      const pivot = images.resolve(ref);
      if (!pivot) throw noSuchImage(ref);
      const t = Date.parse(pivot.config.created ?? '') || 0;
      out = out.filter((i) => keep(Date.parse(i.config.created ?? '') || 0, t));
    }
  }
  return out;
}

export function summary(img: Image, version: number): Record<string, unknown> {
  return {
    Id: img.id,
    ParentId: img.parent ?? '',
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Created: unix(img.config.created),
    Size: img.size,
    SharedSize: -1,
    ...(version < 1.44 ? { VirtualSize: img.size } : {}),
    Labels: img.config.config.Labels ?? {},
    Containers: -1,
  };
}

/** The image's run config with the fields docker always shows (clients index into them). */
function fullConfig(img: Image): Record<string, unknown> {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
    ...img.config.config,
  };
}

function inspect(img: Image, images: ImageService, version: number): Record<string, unknown> {
  const dirs = images.lowerDirs(img);
  const c = img.config as Image['config'] & { variant?: string; container?: unknown; container_config?: unknown };
  return {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent ?? '',
    Comment: c.comment ?? '',
    Created: c.created ?? ZERO_TIME,
    // what a commit (or a build step) records about the container it came from
    ...(version < 1.45 ? { Container: typeof c.container === 'string' ? c.container : '', ContainerConfig: fullConfig({ ...img, config: { ...c, config: (c.container_config ?? {}) as Image['config']['config'] } }) } : {}),
    DockerVersion: '',
    Author: c.author ?? '',
    Config: fullConfig(img),
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.size,
    ...(version < 1.44 ? { VirtualSize: img.size } : {}),
    GraphDriver: {
      Name: 'overlay2',
      Data: { ...(dirs.length > 1 ? { LowerDir: dirs.slice(1).join(':') } : {}), ...(dirs.length ? { UpperDir: dirs[0] } : {}) },
    },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: ZERO_TIME },
  };
}

/** Newest first, like `docker history`; only the top entry carries the image ID and tags. */
function history(img: Image, parentOf: (id: string) => Image | undefined): Array<Record<string, unknown>> {
  const sizes = img.layerSizes ?? [];
  let layer = 0;
  const entries = img.config.history?.length ? img.config.history : [{ created: img.config.created }];
  const rows = entries.map((h) => ({
    Id: '<missing>',
    Created: unix(h.created),
    CreatedBy: h.created_by ?? '',
    Tags: null as string[] | null,
    Size: h.empty_layer ? 0 : (sizes[layer++] ?? 0),
    Comment: h.comment ?? '',
  }));
  if (!img.config.history?.length) rows[0].Size = img.size;
  rows.reverse();
  // the image and its local ancestors (a build's steps, a commit's base) name the entries they end at, as docker's do
  for (let cur: Image | undefined = img, seen = 0; cur && seen < 1000; cur = cur.parent ? parentOf(cur.parent) : undefined, seen++) {
    const at = rows.length - Math.max(1, cur.config.history?.length ?? 1);
    if (at < 0 || rows[at].Id !== '<missing>') break;
    rows[at].Id = cur.id;
    rows[at].Tags = cur.repoTags.length ? cur.repoTags : null;
  }
  return rows;
}

function writeStatusLine(res: ServerResponse, status: string): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ status }) + '\r\n');
}

export function registerImageRoutes(r: Router, deps: ImageRouteDeps): void {
  const { images } = deps;
  const get = (name: string) => {
    const img = images.resolve(name);
    if (!img) throw noSuchImage(name);
    return img;
  };

  r.get(/^\/images\/json$/, (ctx: Ctx) => {
    let list = images.list();
    if (!qbool(ctx.query, 'all')) {
      // Untagged parents of other images are intermediate layers: hidden unless all=1.
      const parents = new Set(list.map((i) => i.parent).filter(Boolean));
      list = list.filter((i) => i.repoTags.length > 0 || !parents.has(i.id));
    }
    list = filterImages(images, list, qfilters(ctx.query));
    list.sort((a, b) => unix(b.config.created) - unix(a.config.created));
    sendJson(ctx.res, 200, list.map((i) => summary(i, ctx.version)));
  });

  r.post(/^\/images\/create$/, async (ctx: Ctx) => {
    const q = ctx.query;
    const fromImage = q.get('fromImage');
    const fromSrc = q.get('fromSrc');
    if (fromImage) {
      await pullStream(ctx, deps, fromImage, q.get('tag') ?? '');
      return;
    }
    if (!fromSrc) throw badRequest('fromImage or fromSrc is required');
    if (fromSrc !== '-') throw badRequest(`importing from ${fromSrc} is not supported: send the archive in the request body (fromSrc=-)`);
    const repo = q.get('repo') || '';
    const tag = q.get('tag') || '';
    const img = await images.importTar(ctx.req, {
      reference: repo ? (tag ? `${repo}:${tag}` : repo) : undefined,
      changes: q.getAll('changes').filter((c) => c.trim() !== ''),
      message: q.get('message') ?? undefined,
      platform: q.get('platform') || undefined,
    });
    deps.events.publish('image', 'import', img.id, { name: img.id });
    writeStatusLine(ctx.res, img.id);
  });

  r.get(/^\/images\/(?<name>.+)\/json$/, (ctx: Ctx) => {
    sendJson(ctx.res, 200, inspect(get(ctx.params.name), images, ctx.version));
  });

  r.get(/^\/images\/(?<name>.+)\/history$/, (ctx: Ctx) => {
    sendJson(ctx.res, 200, history(get(ctx.params.name), (id) => images.resolve(id)));
  });

  const save = async (ctx: Ctx, names: string[]) => {
    if (names.length === 0) throw badRequest('no image names given');
    for (const n of names) if (!deps.images.resolve(n)) throw noSuchImage(n);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    try {
      await deps.archives.save(names, ctx.res);
    } catch (e) {
      ctx.res.destroy(e as Error); // headers are gone: a cut stream is how the client learns
    }
  };
  r.get(/^\/images\/get$/, (ctx: Ctx) => save(ctx, ctx.query.getAll('names')));
  r.get(/^\/images\/(?<name>.+)\/get$/, (ctx: Ctx) => save(ctx, [ctx.params.name]));

  r.post(/^\/images\/load$/, async (ctx: Ctx) => {
    const loaded = await deps.archives.load(ctx.req);
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const l of loaded) ctx.res.write(`${JSON.stringify({ stream: `${l}\n` })}\n`);
    ctx.res.end();
  });

  r.post(/^\/images\/(?<name>.+)\/push$/, async (ctx: Ctx) => {
    const name = ctx.params.name;
    const tag = ctx.query.get('tag') ?? '';
    if (tag && !deps.images.resolve(`${name}:${tag}`)) throw notFound(`tag does not exist: ${name}:${tag}`);
    await progressStream(ctx, (progress) => deps.pusher.push(name, tag, { creds: registryAuth(ctx), progress }));
  });

  r.post(/^\/images\/(?<name>.+)\/tag$/, async (ctx: Ctx) => {
    const repo = ctx.query.get('repo') || '';
    const tag = ctx.query.get('tag') || '';
    if (!repo) throw badRequest('repository name must have at least one component');
    const target = tag ? `${repo}:${tag}` : repo;
    await images.tag(ctx.params.name, target);
    const id = images.resolve(target)?.id;
    if (id) deps.events.publish('image', 'tag', id, { name: normalizeRef(target) });
    ctx.res.writeHead(201);
    ctx.res.end();
  });

  // POST /auth: check credentials against the registry (docker login); nothing is stored by the daemon
  r.post(/^\/auth$/, async (ctx: Ctx) => {
    const body = await readJsonBody<{ username?: string; password?: string; serveraddress?: string; identitytoken?: string }>(ctx.req);
    if (!body?.username && !body?.identitytoken) throw badRequest('username is required');
    await deps.checkLogin(body.serveraddress ?? '', { username: body.username, password: body.password, identitytoken: body.identitytoken });
    sendJson(ctx.res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  r.get(/^\/images\/search$/, async (ctx: Ctx) => {
    const term = ctx.query.get('term') ?? '';
    if (!term) throw badRequest('term is required');
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!['stars', 'is-official', 'is-automated'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const stars = Math.max(0, ...(f.stars ?? []).map((v) => { const n = Number(v); if (!Number.isInteger(n)) throw badRequest(`invalid filter 'stars=${v}'`); return n; }));
    const flag = (k: string) => { const v = f[k]?.at(-1); if (v === undefined) return undefined; if (!['true', 'false'].includes(v)) throw badRequest(`invalid filter '${k}=${v}'`); return v === 'true'; };
    const official = flag('is-official');
    const automated = flag('is-automated');
    const limit = Number(ctx.query.get('limit') ?? 25);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badRequest('limit must be between 1 and 100');
    const results = await deps.puller.search(term, limit, registryAuth(ctx));
    sendJson(ctx.res, 200, results.filter((r) => r.star_count >= stars && (official === undefined || r.is_official === official) && (automated === undefined || r.is_automated === automated)).slice(0, limit));
  });

  r.post(/^\/images\/prune$/, async (ctx: Ctx) => {
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!['dangling', 'until', 'label', 'label!'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const danglingOnly = !f.dangling?.length || ['true', '1'].includes(f.dangling[f.dangling.length - 1].toLowerCase());
    const until = f.until?.length ? pruneUntil(f.until[0]) : Infinity;
    const before = images.list();
    const sizes = layerSizes(before);
    const candidates = before.filter((i) =>
      (!danglingOnly || i.repoTags.length === 0) && !deps.imageInUse(i.id) &&
      (Date.parse(i.config.created ?? '') || 0) / 1000 < until &&
      matchesLabels(i, f.label ?? []) && !(f['label!'] ?? []).some((l) => matchesLabels(i, [l])));
    const deleted: RemoveResult[] = [];
    for (const img of candidates) {
      if (!images.resolve(img.id)) continue; // went with a child pruned before it
      try {
        deleted.push(...await images.remove(img.id, { force: true, noprune: false }, deps.imageInUse));
      } catch { /* a child image still needs it: kept, as docker does */ }
    }
    const left = new Set(images.list().flatMap((i) => i.chainIds));
    let reclaimed = 0;
    for (const [chain, size] of sizes) if (!left.has(chain)) reclaimed += size;
    sendJson(ctx.res, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.delete(/^\/images\/(?<name>.+)$/, async (ctx: Ctx) => {
    const id = images.resolve(ctx.params.name)?.id;
    const res = await images.remove(ctx.params.name, { force: qbool(ctx.query, 'force'), noprune: qbool(ctx.query, 'noprune') }, deps.imageInUse);
    // as docker: an untag per reference gone, a delete per image gone, each with the image's ID
    for (const r of res) {
      if (r.Untagged && id) deps.events.publish('image', 'untag', id, { name: id });
      if (r.Deleted) deps.events.publish('image', 'delete', r.Deleted, { name: r.Deleted });
    }
    sendJson(ctx.res, 200, res);
  });
}
