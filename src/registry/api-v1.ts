// Docker Hub's v1 search API (what `docker search` calls) and stars for it.
import type { Ctx, Deps, Route } from './context.js';
import { RegistryError } from './errors.js';
import { sendJson } from './http.js';
import { search } from './search.js';

/** An integer query parameter within bounds, or its default when absent or not a number. */
function intParam(v: string | null, def: number, min: number, max: number): number {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : def;
}

export function v1Routes({ storage, stars }: Deps): Route[] {
  /** Who stars: the authenticated user, else whoever the client says, else its address. */
  const starUser = ({ req, identity }: Ctx) => identity?.user || String(req.headers['x-star-user'] ?? '') || req.socket.remoteAddress || 'anonymous';

  const star = (starred: boolean) => async (ctx: Ctx) => {
    const { name } = ctx.params;
    if (!await storage.exists(name)) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { name });
    sendJson(ctx.res, 200, { name, star_count: await stars.set(name, starUser(ctx), starred) });
  };

  return [
    {
      path: /^\/v1\/search$/,
      access: 'user',
      methods: {
        GET: async ({ res, url }) => {
          const q = url.searchParams.get('q') ?? '';
          const n = intParam(url.searchParams.get('n'), 25, 1, 100);
          const page = intParam(url.searchParams.get('page'), 1, 1, Number.MAX_SAFE_INTEGER);
          sendJson(res, 200, await search(storage, stars, q, n, page));
        },
      },
    },
    {
      path: /^\/v1\/repositories\/(?<name>.+?)\/star\/?$/,
      access: 'user',
      methods: { POST: star(true), DELETE: star(false) },
    },
  ];
}
