// HTTP to the daemon over a unix socket (or TCP, or TLS): JSON requests, raw streams, hijacking. One connection per
// request, as docker's CLI does for streams; see http1.ts for the exchange itself.
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { ConnectError, EngineError, messageFromBody } from './errors.js';
import { parseHost, type Endpoint } from './host.js';
import { exchange, type CollectedResponse, type Headers, type Response, type Upgraded } from './http1.js';

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

export type RawResponse = Response;

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

/** A plain request's answer; a daemon that switched protocols instead is an error. */
function notUpgraded<T extends Response | CollectedResponse>(r: T | Upgraded, method: string, path: string): T {
  if ('socket' in r) {
    r.socket.destroy();
    throw new Error(`unexpected protocol upgrade from the daemon on ${method} ${path}`);
  }
  return r;
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

  private connect(): Duplex {
    const e = this.endpoint;
    if (e.kind === 'unix') return connect(e.socketPath);
    // TLS (and its module) only for TLS endpoints: loading it costs start-up time otherwise
    if (e.tls) return (createRequire(import.meta.url)('node:tls') as typeof import('node:tls')).connect({ host: e.host, port: e.port, servername: e.host });
    return connect(e.port, e.host);
  }

  /**
   * One request on a new connection; resolves with the response headers (or the upgraded connection), or with the
   * whole response when `collect` is set.
   */
  private async send(method: string, path: string, opts: RequestOptions): Promise<Response | Upgraded>;
  private async send(method: string, path: string, opts: RequestOptions, collect: true): Promise<CollectedResponse | Upgraded>;
  private async send(method: string, path: string, opts: RequestOptions, collect = false): Promise<Response | CollectedResponse | Upgraded> {
    const headers: Record<string, string> = { 'User-Agent': 'tug/0.1', ...opts.headers };
    let body: Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body) || isReadable(opts.body)) body = opts.body;
      else {
        body = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] ??= 'application/json';
      }
    }
    const e = this.endpoint;
    // Host is meaningless on a unix socket
    const host = e.kind === 'unix' ? 'localhost' : e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
    try {
      const request = { method, path: this.path(path, opts.query, opts.unversioned), host, headers };
      return collect ? await exchange(this.connect(), request, body, true) : await exchange(this.connect(), request, body);
    } catch (err) {
      throw this.connectError(err as Error);
    }
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
    const res = notUpgraded(await this.send(method, path, opts), method, path);
    if (res.status >= 400) throw new EngineError(res.status, messageFromBody(res.status, await readAll(res.body)));
    return res;
  }

  async buffer(method: string, path: string, opts: RequestOptions = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const r = notUpgraded(await this.send(method, path, opts, true), method, path);
    if (r.status >= 400) throw new EngineError(r.status, messageFromBody(r.status, r.body));
    return r;
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const r = await this.buffer(method, path, opts);
    const text = r.body.toString('utf8').trim();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Hijack the connection: `Connection: Upgrade`, `Upgrade: tcp`, expect 101; returns the raw duplex socket, paused
   * (resume it once its data listeners are attached): output that arrives before the caller listens (e.g. between
   * start and relay) waits instead of being dropped.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    const res = await this.send(method, path, { ...opts, headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers } });
    if (!('socket' in res)) {
      const body = await readAll(res.body);
      if (res.status >= 400) throw new EngineError(res.status, messageFromBody(res.status, body));
      throw new Error(`the daemon did not upgrade the connection (status ${res.status})`);
    }
    if (res.head.length) res.socket.unshift(res.head);
    const contentType = res.headers['content-type'] ?? '';
    return { socket: res.socket, contentType, multiplexed: contentType.includes('multiplexed') };
  }
}
