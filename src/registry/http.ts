// Small HTTP pieces shared by the registry's handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError } from './errors.js';

export function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string | Buffer): void {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, { 'Content-Length': payload?.length ?? 0, ...headers });
  res.end(payload);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, `${JSON.stringify(value)}\n`);
}

/** The whole request body, refused with 413 past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

const tooLarge = (limit: number) => new RegistryError('SIZE_INVALID', `payload exceeds ${limit} bytes`, { limit }, { status: 413 });

/** Read and discard a body nobody needs, so the connection can carry the next request. */
export async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) { /* discarded */ }
}

/**
 * One page of a sorted list, as tags/list and _catalog page: `n` entries after `last`. The next page's URL is
 * returned when entries remain (for the Link header); n=0 gives an empty page and no link.
 */
export function paginate(all: string[], n: string | null, last: string | null): { items: string[]; next?: { n: number; last: string } } {
  if (n !== null && !/^\d{1,9}$/.test(n)) throw new RegistryError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n });
  const after = last ? all.filter((x) => x > last) : all;
  if (n === null) return { items: after };
  const count = Number(n);
  const items = after.slice(0, count);
  return count > 0 && after.length > count ? { items, next: { n: count, last: items[items.length - 1] } } : { items };
}

export function linkNext(path: string, next: { n: number; last: string } | undefined): Record<string, string> {
  return next ? { Link: `<${path}?n=${next.n}&last=${encodeURIComponent(next.last)}>; rel="next"` } : {};
}
