// The Engine API HTTP server: version prefix handling, docker's headers, JSON errors, hijack upgrades.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';
import { Router, sendJson, type Ctx } from './router.js';

export const API_VERSION = '1.44';
export const MIN_API_VERSION = '1.24';
export const SERVER_NAME = 'tugboat';
export const ENGINE_VERSION = '0.1.0';

const versionPrefix = /^\/v(\d+\.\d+)(\/.*)$/;

function parseVersion(path: string): { version: number; path: string; raw?: string } {
  const m = versionPrefix.exec(path);
  if (!m) return { version: Number(API_VERSION), path };
  return { version: Number(m[1]), path: m[2], raw: m[1] };
}

function commonHeaders(res: ServerResponse): void {
  res.setHeader('Api-Version', API_VERSION);
  res.setHeader('Server', `${SERVER_NAME}/${ENGINE_VERSION} (linux)`);
  res.setHeader('Ostype', 'linux');
  res.setHeader('Docker-Experimental', 'false');
}

/** Serves one plain (not hijacked) API request: what the web dashboard hands on from its own server. */
export type ApiRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** `onActivity` hears of each request as it comes and as it ends (the daemon trims its memory when they stop). */
export function createApiServer(router: Router, onActivity: () => void = () => undefined): Server & { handle: ApiRequestHandler } {
  const dispatch = async (req: IncomingMessage, res: ServerResponse, upgrade?: Ctx['upgrade']) => {
    onActivity();
    if (!upgrade) res.on('close', onActivity);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { version, path, raw } = parseVersion(url.pathname);
    const started = performance.now();
    if (!upgrade) res.on('finish', () => log.debug('request', { method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }));
    commonHeaders(res);
    try {
      if (raw && (version < Number(MIN_API_VERSION) || version > Number(API_VERSION))) {
        throw new ApiError(400, `client version ${raw} is ${version < Number(MIN_API_VERSION) ? 'too old. Minimum supported API version is ' + MIN_API_VERSION : 'too new. Maximum supported API version is ' + API_VERSION}, please upgrade your client to a newer version`);
      }
      const m = router.match(req.method ?? 'GET', path);
      if (!m) throw new ApiError(404, `page not found`);
      if (m === 'method') throw new ApiError(405, `method ${req.method} not allowed for ${path}`);
      await m.handler({ req, res, params: m.params, query: url.searchParams, version, upgrade });
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 500;
      if (status >= 500) log.error('request failed', { method: req.method, path, error: errorMessage(e), stack: (e as Error).stack });
      else log.debug('request refused', { method: req.method, path, status, error: errorMessage(e) });
      if (upgrade) {
        const body = JSON.stringify({ message: errorMessage(e) });
        upgrade.socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nApi-Version: ${API_VERSION}\r\n\r\n${body}`);
      } else if (!res.headersSent) {
        if (status === 304) { res.writeHead(304); res.end(); } else sendJson(res, status, { message: errorMessage(e) });
      } else {
        res.destroy();
      }
    }
  };

  const handle: ApiRequestHandler = (req, res) => { void dispatch(req, res); };
  const server = Object.assign(createServer({ keepAlive: true }, handle), { handle });
  // Docker clients hijack attach/exec connections with "Connection: Upgrade, Upgrade: tcp".
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void dispatch(req, fakeResponse(socket), { socket, head });
  });
  server.keepAliveTimeout = 0;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  return server;
}

/** Handlers of upgradable routes may still answer with plain JSON errors; give them a response-like sink. */
function fakeResponse(socket: Duplex): ServerResponse {
  const headers: Record<string, string> = {};
  const r = {
    headersSent: false,
    setHeader(k: string, v: string) { headers[k] = v; },
    writeHead() { return r; },
    end() { /* errors on upgraded connections are written by dispatch */ },
    destroy() { socket.destroy(); },
  };
  return r as unknown as ServerResponse;
}

/** Answer a hijack request: 101 with docker's stream content type, then the socket is raw both ways. */
export function acceptHijack(ctx: Ctx, contentType: string): Duplex {
  if (ctx.upgrade) {
    const { socket } = ctx.upgrade;
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
    return socket;
  }
  // Old clients hijack without the Upgrade header: answer 200 and take over the socket.
  const socket = ctx.req.socket;
  ctx.res.detachSocket?.(socket);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
  return socket;
}
