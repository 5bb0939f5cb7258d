// The registry's HTTP server: routing, the auth gate, spec-shaped errors, one log line per request, and a
// graceful stop.
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { blobRoutes } from './api-blobs.js';
import { manifestRoutes } from './api-manifests.js';
import { v1Routes } from './api-v1.js';
import { Authenticator, parseBasic } from './auth.js';
import type { Ctx, Deps, Route } from './context.js';
import { RegistryError } from './errors.js';
import { Htpasswd } from './htpasswd.js';
import { send, sendJson } from './http.js';
import { validName } from './names.js';
import { Stars } from './search.js';
import { RegistryStorage } from './storage.js';
import { loadSecret, parseScopes, type Access } from './token.js';
import { Uploads } from './uploads.js';

export interface RegistryOptions {
  root: string;
  /** An htpasswd file of bcrypt entries: every request then needs credentials. */
  htpasswd?: string;
  realm?: string;
  log?: (line: string) => void;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What a request needs to be allowed, from its route and method. */
function neededAccess(route: Route, method: string, params: Record<string, string>, url: URL): Access[] {
  if (route.access === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  if (route.access !== 'repository') return [];
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  const needed = [{ type: 'repository', name: params.name, actions }];
  // a mount reads the source repository too; asking for it up front lets a token cover both
  const from = url.searchParams.get('from');
  if (method === 'POST' && url.searchParams.has('mount') && from && from !== params.name && validName(from)) needed.push({ type: 'repository', name: from, actions: ['pull'] });
  return needed;
}

function decodeParams(groups: Record<string, string> | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(groups ?? {})) out[k] = decodeURIComponent(v);
  } catch {
    return undefined;
  }
  return out;
}

/** Open the storage under `root` and return the request handler. */
export async function openRegistry(o: RegistryOptions): Promise<RequestHandler> {
  const log = o.log ?? (() => undefined);
  await mkdir(join(o.root, 'blobs'), { recursive: true });
  await mkdir(join(o.root, 'repositories'), { recursive: true });
  const storage = new RegistryStorage(o.root);
  let auth: Authenticator | undefined;
  if (o.htpasswd) {
    const users = new Htpasswd(o.htpasswd, (m) => log(`warning: ${m}`));
    await users.load();
    auth = new Authenticator(users, await loadSecret(o.root), o.realm ?? 'tug-registry');
  }
  const deps: Deps = { storage, uploads: new Uploads(storage), stars: new Stars(o.root), auth };

  const routes: Route[] = [
    { path: /^\/v2\/?$/, access: 'user', methods: { GET: async ({ res }) => sendJson(res, 200, {}) } },
    ...manifestRoutes(deps),
    ...blobRoutes(deps),
    ...v1Routes(deps),
  ];
  if (auth) {
    const a = auth;
    routes.push({
      path: /^\/token$/,
      access: 'none',
      methods: {
        GET: async (ctx) => {
          const t = await a.issue(ctx.req.headers.authorization, parseScopes(ctx.url.searchParams.getAll('scope')));
          if (!t) throw new RegistryError('UNAUTHORIZED', 'authentication required', undefined, { headers: { 'WWW-Authenticate': a.basicChallenge() } });
          ctx.identity = { user: parseBasic(ctx.req.headers.authorization)!.user, grants: [] };
          sendJson(ctx.res, 200, t);
        },
      },
    });
  }

  const dispatch = async (ctx: Ctx): Promise<void> => {
    const { req, res, url } = ctx;
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let params: Record<string, string> | undefined;
    for (const r of routes) {
      const m = r.path.exec(url.pathname);
      if (m) { route = r; params = decodeParams(m.groups); break; }
    }
    if (!route) { send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, '404 page not found\n'); return; }
    // HEAD is GET without the body (node leaves the body out) wherever it is not handled on its own
    const handler = route.methods[method as keyof Route['methods']] ?? (method === 'HEAD' ? route.methods.GET : undefined);
    if (!handler) {
      const allowed = Object.keys(route.methods).flatMap((m) => (m === 'GET' && !route.methods.HEAD ? ['GET', 'HEAD'] : [m]));
      throw new RegistryError('UNSUPPORTED', `${method} is not supported here`, undefined, { headers: { Allow: allowed.join(', ') } });
    }
    if (!params || (params.name !== undefined && !validName(params.name))) throw new RegistryError('NAME_INVALID', 'invalid repository name', { name: params?.name });
    ctx.params = params;
    if (auth && route.access !== 'none') {
      const needed = neededAccess(route, method, params, url);
      const id = await auth.identify(req.headers.authorization);
      if (!id || !auth.allows(id, needed)) {
        const realm = `http://${req.headers.host ?? 'localhost'}/token`;
        throw new RegistryError('UNAUTHORIZED', 'authentication required', needed.map((n) => ({ Type: n.type, Name: n.name, Action: n.actions.join(',') })),
          { headers: { 'WWW-Authenticate': auth.challenge(realm, needed, !!id) } });
      }
      ctx.identity = id;
    }
    await handler(ctx);
  };

  return (req, res) => {
    const started = process.hrtime.bigint();
    // the request target is a path: a fixed origin keeps "//host/..." from being read as an authority
    const ctx: Ctx = { req, res, url: new URL(`http://registry${req.url?.startsWith('/') ? req.url : '/'}`), params: {} };
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const length = res.getHeader('content-length');
      log(`${new Date().toISOString()} ${req.socket.remoteAddress ?? '-'} ${ctx.identity?.user || '-'} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${length ?? '-'} ${ms.toFixed(1)}ms${res.writableFinished ? '' : ' (aborted)'}`);
    });
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    dispatch(ctx).catch((e: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      if (e instanceof RegistryError) {
        send(res, e.status, { 'Content-Type': 'application/json', ...e.headers }, `${e.body()}\n`);
        return;
      }
      if (req.destroyed) return; // the client went away mid-body
      log(`error: ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      send(res, 500, { 'Content-Type': 'application/json' }, `${new RegistryError('UNKNOWN', (e as Error).message ?? 'internal error').body()}\n`);
    });
  };
}

/** "host:port", "[v6]:port" or ":port" (every interface). */
export function parseAddr(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[3]) > 65535) throw new Error(`invalid address "${addr}": want host:port`);
  const host = m[1] ?? m[2];
  return { host: host || undefined, port: Number(m[3]) };
}

export interface Listening { url: string; close(): Promise<void> }

/** Listen on `addr`; close() stops taking connections and lets requests under way finish (10 s at most). */
export async function startServer(handler: RequestHandler, addr: string): Promise<Listening> {
  const { host, port } = parseAddr(addr);
  const server = createServer(handler);
  server.requestTimeout = 0; // a large layer may take longer than node's default 5 minutes to arrive
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const a = server.address() as { address: string; port: number; family: string };
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), 10000);
      server.close(() => { clearTimeout(force); resolve(); });
      server.closeIdleConnections();
    }),
  };
}
