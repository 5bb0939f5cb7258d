// A small regex router. Image names contain '/' and ':', so patterns match greedily with named groups.
import { parseGoDuration } from '../util/units.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest } from '../util/errors.js';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** API version the client asked for (from the /v1.xx prefix), or the server's. */
  version: number;
  /** Present when the client asked to hijack the connection (Connection: Upgrade). */
  upgrade?: { socket: Duplex; head: Buffer };
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

interface Route { method: string; pattern: RegExp; handler: Handler }

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, pattern, handler });
  }
  get(p: RegExp, h: Handler) { this.add('GET', p, h); }
  post(p: RegExp, h: Handler) { this.add('POST', p, h); }
  put(p: RegExp, h: Handler) { this.add('PUT', p, h); }
  delete(p: RegExp, h: Handler) { this.add('DELETE', p, h); }
  head(p: RegExp, h: Handler) { this.add('HEAD', p, h); }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
      return { handler: r.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

// ---- helpers shared by route modules ----

/** Docker's boolean query rule: anything but "", 0, no, false, none is true. */
export function qbool(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return !['', '0', 'no', 'false', 'none'].includes(v.toLowerCase());
}

export function qint(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

/** Terminal height and width (`h`, `w`) for resize: whole numbers a tty can hold. */
export function qTerminalSize(q: URLSearchParams): { height: number; width: number } {
  const one = (name: string) => {
    const v = q.get(name) ?? '';
    const n = Number(v);
    if (v === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw badRequest(`invalid terminal ${name === 'h' ? 'height' : 'width'} "${v}": must be a whole number from 0 to 65535`);
    return n;
  };
  return { height: one('h'), width: one('w') };
}

/** Filters come as {"key":["a","b"]} or {"key":{"a":true}}; normalise to lists. */
export function qfilters(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get('filters');
  if (!raw) return {};
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch { throw badRequest(`invalid filters: ${raw}`); }
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === 'object') out[k] = Object.entries(v).filter(([, b]) => b).map(([s]) => s);
    else throw badRequest(`invalid filter '${k}'`);
  }
  return out;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

export async function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new ApiError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJsonBody<T>(req: IncomingMessage): Promise<T> {
  const buf = await readBody(req);
  if (buf.length === 0) return {} as T;
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw badRequest(`invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * The JSON body of a hijacked request. Node hands the bytes after the headers of an upgrade request
 * over as `head`; the body is their first Content-Length bytes and the rest is already stream data.
 */
export async function readUpgradeBody<T>(ctx: Ctx): Promise<{ body: T; rest: Buffer }> {
  if (!ctx.upgrade) return { body: await readJsonBody<T>(ctx.req), rest: Buffer.alloc(0) };
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  let buf = ctx.upgrade.head;
  const socket = ctx.upgrade.socket;
  while (buf.length < len) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (c: Buffer) => { cleanup(); resolve(c); };
      const onEnd = () => { cleanup(); resolve(null); };
      const cleanup = () => { socket.off('data', onData); socket.off('end', onEnd); socket.pause(); };
      socket.on('data', onData);
      socket.on('end', onEnd);
    });
    if (!chunk) break;
    buf = Buffer.concat([buf, chunk]);
  }
  const raw = buf.subarray(0, len).toString('utf8');
  let body = {} as T;
  if (raw.trim()) {
    try { body = JSON.parse(raw) as T; } catch (e) { throw badRequest(`invalid JSON: ${(e as Error).message}`); }
  }
  return { body, rest: buf.subarray(len) };
}

/** `until` for prune: unix seconds, an RFC 3339 time, or a Go duration before now. */
export function pruneUntil(v: string): number {
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const d = parseGoDuration(v);
  if (d !== undefined) return Date.now() / 1000 - d;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid filter 'until=${v}'`);
  return t / 1000;
}

/** docker's `label` filter: every wanted "key" is present, every "key=value" matches. */
export function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}
