// What every handler gets: the request, its parsed URL and route parameters, who is asking, and the services.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, Identity } from './auth.js';
import type { Stars } from './search.js';
import type { RegistryStorage } from './storage.js';
import type { Uploads } from './uploads.js';

export interface Deps { storage: RegistryStorage; uploads: Uploads; stars: Stars; auth?: Authenticator }

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Set when the registry checks credentials. */
  identity?: Identity;
}

export type Handler = (ctx: Ctx) => Promise<void>;

/**
 * A path and its handlers by method. `access` says what a caller needs: a repository's actions by method,
 * the catalog, any authenticated user, or nothing (the token endpoint, which checks credentials itself).
 */
export interface Route {
  path: RegExp;
  access: 'repository' | 'catalog' | 'user' | 'none';
  methods: Partial<Record<'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', Handler>>;
}
