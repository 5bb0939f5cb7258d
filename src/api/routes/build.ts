// POST /build (docker's legacy builder endpoint: a tar context in, JSON messages out) and POST /build/prune.
import type { ServerResponse } from 'node:http';
import { qbool, qfilters, pruneUntil, sendJson, type Ctx, type Router } from '../router.js';
import type { BuildService } from '../../services/build/service.js';
import type { BuildSink } from '../../services/build/builder.js';
import { BuildError } from '../../services/build/errors.js';
import type { HostConfig } from '../../services/containers/types.js';
import { normalizeRef, parseReference, DEFAULT_DOMAIN } from '../../services/images/reference.js';
import type { Credentials } from '../../services/registry/auth.js';
import { ApiError, badRequest, errorMessage } from '../../util/errors.js';

function jsonParam<T>(q: URLSearchParams, name: string): T | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  try { return JSON.parse(v) as T; } catch { throw badRequest(`invalid ${name} parameter: not JSON`); }
}

/** X-Registry-Config: base64url JSON of registry → credentials, for the bases FROM pulls. */
function registryConfig(ctx: Ctx): Record<string, Credentials> {
  const h = ctx.req.headers['x-registry-config'];
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return {};
  try {
    const parsed = JSON.parse(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? parsed as Record<string, Credentials> : {};
  } catch {
    throw badRequest('invalid X-Registry-Config header');
  }
}

function credsFor(config: Record<string, Credentials>): (ref: string) => Credentials | undefined {
  return (ref) => {
    let host: string;
    try { host = parseReference(ref).domain; } catch { return undefined; }
    const keys = host === DEFAULT_DOMAIN ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io'] : [host, `https://${host}`, `http://${host}`];
    for (const k of keys) if (config[k]) return config[k];
    return undefined;
  };
}

const num = (q: URLSearchParams, name: string) => {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw badRequest(`invalid ${name} parameter: ${v}`);
  return n;
};

/** RUN containers' settings from the query (docker's names). */
function hostConfig(q: URLSearchParams): HostConfig {
  const extraHosts = q.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean);
  const h: HostConfig = { NetworkMode: q.get('networkmode') || 'default' };
  if (extraHosts.length) h.ExtraHosts = extraHosts;
  const set = (key: keyof HostConfig & string, v: number | undefined) => { if (v !== undefined && v !== 0) h[key] = v; };
  set('Memory', num(q, 'memory'));
  set('MemorySwap', num(q, 'memswap'));
  set('CpuShares', num(q, 'cpushares'));
  set('CpuPeriod', num(q, 'cpuperiod'));
  set('CpuQuota', num(q, 'cpuquota'));
  set('ShmSize', num(q, 'shmsize'));
  const cpuset = q.get('cpusetcpus');
  if (cpuset) h.CpusetCpus = cpuset;
  return h;
}

/** JSON messages; the stream (status 200) opens with the first one, so earlier failures are plain HTTP errors. */
function streamSink(res: ServerResponse, quiet: boolean): BuildSink & { result(text: string): void; error(message: string, code: number): void; end(): void } {
  let open = false;
  const held: string[] = [];
  const write = (m: unknown) => {
    if (!open) { res.writeHead(200, { 'Content-Type': 'application/json' }); open = true; }
    if (!res.destroyed) res.write(`${JSON.stringify(m)}\n`);
  };
  return {
    result: (text) => write({ stream: text }),
    // -q: nothing but the result, unless the build fails (then what it printed comes first)
    stream: (text) => { if (quiet) held.push(text); else write({ stream: text }); },
    progress: (m) => { if (!quiet) write(m); },
    aux: (v) => write({ aux: v }),
    error: (message, code) => {
      if (quiet && held.length) write({ stream: held.join('') });
      write({ errorDetail: { code, message }, error: message });
    },
    end: () => { if (!open) res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(); },
  };
}

export function registerBuildRoutes(r: Router, d: { builds: BuildService }): void {
  r.post(/^\/build$/, async (ctx) => {
    const q = ctx.query;
    if (q.get('remote')) throw badRequest('remote build contexts are not supported: send the context as a tar in the request body');
    if (q.get('version') === '2') throw badRequest('BuildKit (version=2) is not supported by this engine: use the classic builder (DOCKER_BUILDKIT=0)');
    const tags = q.getAll('t').filter(Boolean).map((t) => {
      if (parseReference(t).digest !== undefined) throw badRequest(`invalid reference format: ${t} (a tag cannot carry a digest)`);
      return normalizeRef(t);
    });
    const buildArgs = jsonParam<Record<string, string | null>>(q, 'buildargs') ?? {};
    const labels = jsonParam<Record<string, string>>(q, 'labels') ?? {};
    const quiet = qbool(q, 'q');
    const creds = credsFor(registryConfig(ctx));
    const { context, dispose } = await d.builds.receive(ctx.req);
    let cancelled = false;
    ctx.res.once('close', () => { if (!ctx.res.writableFinished) cancelled = true; });
    const sink = streamSink(ctx.res, quiet);
    try {
      const build = await d.builds.prepare({
        context, dockerfile: q.get('dockerfile') || 'Dockerfile', tags, buildArgs, labels,
        noCache: qbool(q, 'nocache'), pull: qbool(q, 'pull'), target: q.get('target') || undefined, platform: q.get('platform') || undefined,
        host: hostConfig(q), rm: qbool(q, 'rm', true), forceRm: qbool(q, 'forcerm'), creds, cancelled: () => cancelled,
      }).catch((e: unknown) => { throw e instanceof BuildError ? badRequest(e.message) : e; });
      try {
        const image = await d.builds.run(build, sink);
        if (quiet) sink.result(`${image.id}\n`);
      } catch (e) {
        const code = e instanceof BuildError ? e.code : 1;
        sink.error(e instanceof BuildError || e instanceof ApiError ? e.message : errorMessage(e), code);
      }
      sink.end();
    } finally {
      await dispose();
    }
  });

  r.post(/^\/build\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!['until', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const until = f.until?.length ? pruneUntil(f.until[f.until.length - 1]) * 1000 : undefined;
    const { deleted, reclaimed } = await d.builds.prune({ all: qbool(ctx.query, 'all'), until });
    sendJson(ctx.res, 200, { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
}
