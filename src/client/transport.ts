// HTTP to the daemon with node:http over a unix socket (or TCP): JSON requests, raw streams, hijacking.
import http from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { ConnectError, EngineError, messageFromBody } from './errors.js';
import { parseHost, type Endpoint } from './host.js';

export const API_VERSION = '1.44';

export type Query = Record<string, string | number | boolean | undefined | null | string[] | Record<string, unknown>>;

export interface RequestOptions {
  query?: Query;
  /** JSON-encoded unless it is a Buffer or a readable stream. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Skip the /v1.xx prefix (for /_ping). */
  unversioned?: boolean;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export interface Hijacked {
  socket: Duplex;
  /** The daemon said the stream is multiplexed (no TTY) or raw. */
  multiplexed: boolean;
  contentType: string;
}

/** Encode a query the way the Engine API expects it: booleans as 1/0, objects (filters) as JSON. */
export function encodeQuery(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') p.append(k, v ? '1' : '0');
    else if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else if (typeof v === 'object') p.append(k, JSON.stringify(v));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function isReadable(x: unknown): x is Readable {
  return !!x && typeof (x as Readable).pipe === 'function' && typeof (x as Readable).on === 'function';
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

export class Transport {
  readonly endpoint: Endpoint;
  readonly version: string;

  constructor(host: string, version = API_VERSION) {
    this.endpoint = parseHost(host);
    this.version = version;
  }

  path(path: string, query?: Query, unversioned = false): string {
    return `${unversioned ? '' : `/v${this.version}`}${path}${encodeQuery(query)}`;
  }

  private baseOptions(method: string, path: string, headers: Record<string, string>): http.RequestOptions {
    const e = this.endpoint;
    const common: http.RequestOptions = { method, path, headers: { 'User-Agent': 'tug/0.1', ...headers }, agent: false };
    // Host is meaningless on a unix socket; an IPv4 literal spares node's IPv6 check of a name (a costly regex at start-up)
    if (e.kind === 'unix') return { ...common, socketPath: e.socketPath, host: '127.0.0.1' };
    return { ...common, host: e.host, port: e.port };
  }

  private open(method: string, path: string, opts: RequestOptions): { req: http.ClientRequest; send: () => void } {
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body)) payload = opts.body;
      else if (isReadable(opts.body)) payload = opts.body;
      else {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] ??= 'application/json';
      }
      if (Buffer.isBuffer(payload)) headers['Content-Length'] = String(payload.length);
    }
    const ro = this.baseOptions(method, this.path(path, opts.query, opts.unversioned), headers);
    // https (and TLS with it) is loaded only for TLS endpoints: it costs start-up time otherwise
    const mod: typeof http = this.endpoint.kind === 'tcp' && this.endpoint.tls ? createRequire(import.meta.url)('node:https') : http;
    const req = mod.request(ro);
    const send = () => {
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else payload.pipe(req);
    };
    return { req, send };
  }

  private connectError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return new ConnectError(this.endpoint.display, err);
    if (code === 'EACCES') {
      return new Error(`permission denied while trying to connect to the tugboat daemon socket at ${this.endpoint.display}: ${err.message}`);
    }
    return err;
  }

  /** Send a request; resolve once the response headers arrive. Errors (status >= 400) reject with EngineError. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const { req, send } = this.open(method, path, opts);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', (e) => reject(this.connectError(e)));
      send();
    });
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const body = await readAll(res);
      throw new EngineError(status, messageFromBody(status, body));
    }
    return { status, headers: res.headers, body: res };
  }

  async buffer(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const r = await this.raw(method, path, opts);
    return { status: r.status, headers: r.headers, body: await readAll(r.body) };
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const r = await this.buffer(method, path, opts);
    const text = r.body.toString('utf8').trim();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Hijack the connection: `Connection: Upgrade`, `Upgrade: tcp`, expect 101; returns the raw duplex socket, paused
   * (resume it once its data listeners are attached).
   */
  hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    const { req, send } = this.open(method, path, {
      ...opts,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers },
    });
    return new Promise<Hijacked>((resolve, reject) => {
      req.on('upgrade', (res: http.IncomingMessage, socket: Socket, head: Buffer) => {
        // Paused: output that arrives before the caller listens (e.g. between start and relay) must wait, not be dropped.
        // Call socket.resume() (or pipe it) once listening.
        socket.pause();
        if (head && head.length) socket.unshift(head);
        const contentType = String(res.headers['content-type'] ?? '');
        resolve({ socket, contentType, multiplexed: contentType.includes('multiplexed') });
      });
      req.on('response', (res: http.IncomingMessage) => {
        readAll(res).then((body) => {
          const status = res.statusCode ?? 0;
          if (status >= 400) reject(new EngineError(status, messageFromBody(status, body)));
          else reject(new Error(`the daemon did not upgrade the connection (status ${status})`));
        }, reject);
      });
      req.on('error', (e) => reject(this.connectError(e)));
      send();
    });
  }
}
