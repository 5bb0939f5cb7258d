// A distribution-spec client for one repository on one registry: challenge-driven auth (anonymous, bearer
// token, basic), manifests and blobs. Credentials go only to the registry and to the token realm it names;
// redirects (blob storage on another host) are followed without them.
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Readable } from 'node:stream';
import { ApiError } from '../../util/errors.js';
import { basicHeader, parseChallenge, type Credentials } from './auth.js';

export interface RegistryOptions {
  /** Hosts (host[:port]) and CIDRs reached over plain HTTP; loopback always is. */
  insecure?: string[];
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)(?::\d+)?$/;

function ipv4InCidr(ip: string, cidr: string): boolean {
  const [net, bitsS] = cidr.split('/');
  const bits = Number(bitsS);
  const toInt = (s: string) => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !/^\d+\.\d+\.\d+\.\d+$/.test(net ?? '') || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) === (toInt(net) & mask);
}

/** Base URL of a registry: Docker Hub's API host for docker.io, plain HTTP for loopback and insecure ones. */
export function registryBase(domain: string, opts: RegistryOptions = {}): string {
  if (domain === 'docker.io') return 'https://registry-1.docker.io';
  const host = domain.replace(/:\d+$/, '');
  const insecure = LOOPBACK.test(domain) || (opts.insecure ?? []).some((i) => i === domain || i === host || (i.includes('/') && ipv4InCidr(host, i)));
  return `${insecure ? 'http' : 'https'}://${domain}`;
}

interface RegistryErrorBody { errors?: Array<{ code?: string; message?: string }> }

/** The registry's own error text ("manifest unknown: manifest unknown"), if it sent one. */
async function registryError(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const e = JSON.parse(text) as RegistryErrorBody;
    const first = e.errors?.[0];
    if (first) return `${(first.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${first.message ?? ''}`.trim();
  } catch { /* not JSON */ }
  return text.trim().slice(0, 200) || res.statusText;
}

/** Where a redirect leads. Credentials stay with the registry: storage elsewhere gets the signed URL alone. */
function redirected(location: string, from: string | URL, headers: Record<string, string>): URL {
  const next = new URL(location, from);
  if (next.origin !== new URL(from).origin) delete headers.Authorization;
  return next;
}

export class RegistryRequestError extends ApiError {
  constructor(status: number, message: string, readonly registryStatus: number) { super(status, message); }
}

export class RegistryClient {
  private authorization?: string;

  constructor(readonly base: string, readonly repo: string, private readonly creds: Credentials | undefined, private readonly actions = 'pull') {}

  /** A request with the auth dance: one retry after a 401 challenge. */
  async request(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer | Readable; redirectable?: boolean } = {}): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    let res = await this.send(method, url, init);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate'));
      res = await this.send(method, url, init);
    }
    return res;
  }

  private async send(method: string, url: string, init: { headers?: Record<string, string>; body?: Buffer | Readable }): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': 'tugboat/0.1', ...(init.headers ?? {}) };
    if (this.authorization) headers.Authorization = this.authorization;
    let target = url;
    for (let hops = 0; hops < 5; hops++) {
      const body = init.body instanceof Readable ? (Readable.toWeb(init.body) as ReadableStream) : init.body;
      let res: Response;
      try {
        res = await fetch(target, { method, headers, body, redirect: 'manual', ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new ApiError(500, `${method} "${target}": ${cause?.code === 'ECONNREFUSED' ? 'connect: connection refused' : cause?.message ?? (e as Error).message}`);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && method !== 'PUT' && method !== 'POST' && method !== 'PATCH') {
        await res.body?.cancel();
        target = redirected(location, target, headers).href;
        continue;
      }
      return res;
    }
    throw new ApiError(500, `${method} "${url}": too many redirects`);
  }

  /** GET with node's http client, redirects followed as `send` does (credentials never leave the registry). */
  private async streamGet(url: string): Promise<IncomingMessage> {
    const headers: Record<string, string> = { 'User-Agent': 'tugboat/0.1' };
    if (this.authorization) headers.Authorization = this.authorization;
    let target = new URL(url);
    for (let hops = 0; hops < 5; hops++) {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const get = target.protocol === 'https:' ? httpsGet : httpGet;
        get(target, { headers }, resolve).on('error', reject);
      });
      const location = res.headers.location;
      if (!res.statusCode || res.statusCode < 300 || res.statusCode >= 400 || !location) return res;
      res.resume();
      target = redirected(location, target, headers);
    }
    throw new ApiError(500, `GET "${url}": too many redirects`);
  }

  private async authenticate(header: string | null): Promise<void> {
    const ch = parseChallenge(header);
    if (!ch) throw new RegistryRequestError(401, 'unauthorized: the registry asked for authentication without saying how', 401);
    if (ch.scheme === 'basic') {
      const b = this.creds ? basicHeader(this.creds) : undefined;
      if (!b) throw new RegistryRequestError(401, 'unauthorized: authentication required', 401);
      this.authorization = b;
      return;
    }
    if (ch.scheme !== 'bearer' || !ch.params.realm) throw new RegistryRequestError(401, `unauthorized: unsupported authentication scheme ${ch.scheme}`, 401);
    if (this.creds?.registrytoken) { this.authorization = `Bearer ${this.creds.registrytoken}`; return; }
    const u = new URL(ch.params.realm);
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    const scope = ch.params.scope || (this.repo ? `repository:${this.repo}:${this.actions}` : '');
    if (scope) u.searchParams.set('scope', scope);
    const headers: Record<string, string> = { 'User-Agent': 'tugboat/0.1' };
    const basic = this.creds ? basicHeader(this.creds) : undefined;
    if (basic) headers.Authorization = basic;
    let res: Response;
    try {
      res = await fetch(u, { headers });
    } catch (e) {
      throw new ApiError(500, `GET "${u.origin}${u.pathname}": ${(e as Error).message}`);
    }
    if (!res.ok) throw new RegistryRequestError(401, `unauthorized: the token server refused: ${await registryError(res)}`, res.status);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryRequestError(401, 'unauthorized: the token server sent no token', 401);
    this.authorization = `Bearer ${token}`;
  }

  /** GET /v2/: does the registry answer, and do these credentials work. */
  async ping(): Promise<void> {
    const res = await this.request('GET', '/v2/');
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) throw new RegistryRequestError(401, 'unauthorized: incorrect username or password', res.status);
    if (!res.ok) throw new ApiError(502, `registry ${this.base} answered ${res.status} on /v2/`);
  }

  async getManifest(reference: string, accept: string): Promise<{ body: Buffer; contentType: string; digestHeader?: string }> {
    const res = await this.request('GET', `/v2/${this.repo}/manifests/${reference}`, { headers: { Accept: accept } });
    if (!res.ok) throw await this.failure(res, `manifest for ${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { body, contentType: res.headers.get('content-type') ?? '', digestHeader: res.headers.get('docker-content-digest') ?? undefined };
  }

  /**
   * The blob's bytes as a stream (and its announced length). A blob that comes at once (200, after redirects)
   * streams through node's http client: fetch's web stream costs twice the CPU per byte, which a pull of hundreds
   * of MB feels. Anything else (a challenge, an error) goes through `request`, which knows those answers.
   */
  async getBlob(digest: string): Promise<{ stream: Readable; length?: number }> {
    const path = `/v2/${this.repo}/blobs/${digest}`;
    const direct = await this.streamGet(`${this.base}${path}`).catch(() => undefined);
    if (direct?.statusCode === 200) {
      const len = direct.headers['content-length'];
      return { stream: direct, length: len ? Number(len) : undefined };
    }
    direct?.resume();
    const res = await this.request('GET', path);
    if (!res.ok || !res.body) throw await this.failure(res, `blob ${digest}`);
    const len = res.headers.get('content-length');
    return { stream: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), length: len ? Number(len) : undefined };
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${this.repo}/blobs/${digest}`);
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.pushFailure(res, `blob ${digest}`);
  }

  /**
   * Start an upload; with `mountFrom` the registry may link the blob from another repository at once
   * (201: nothing to send). Returns where to send the bytes otherwise.
   */
  async startUpload(mount?: { digest: string; from: string }): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const q = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const res = await this.request('POST', `/v2/${this.repo}/blobs/uploads/${q}`, { headers: { 'Content-Length': '0' } });
    await res.body?.cancel();
    if (res.status === 201 && mount) return { mounted: true };
    if (res.status !== 202) throw await this.pushFailure(res, 'blob upload');
    const location = res.headers.get('location');
    if (!location) throw new ApiError(502, `registry ${this.base} started an upload without a Location`);
    return { mounted: false, location: new URL(location, this.base).href };
  }

  /** Send a whole blob to an upload location and commit it under `digest` (monolithic PUT). */
  async finishUpload(location: string, digest: string, size: number, body: Readable): Promise<void> {
    const u = new URL(location);
    u.searchParams.set('digest', digest);
    const res = await this.request('PUT', u.href, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, body });
    await res.body?.cancel();
    if (res.status !== 201 && res.status !== 204) throw await this.pushFailure(res, `blob ${digest}`);
  }

  /** PUT a manifest under a tag (or digest); returns the digest the registry reports. */
  async putManifest(reference: string, mediaType: string, body: Buffer): Promise<string | undefined> {
    const res = await this.request('PUT', `/v2/${this.repo}/manifests/${reference}`, { headers: { 'Content-Type': mediaType }, body });
    await res.body?.cancel();
    if (res.status !== 201 && res.status !== 200) throw await this.pushFailure(res, `manifest ${reference}`);
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  async pushFailure(res: Response, what: string): Promise<ApiError> {
    const detail = await registryError(res);
    if (res.status === 401 || res.status === 403) return new RegistryRequestError(401, `denied: requested access to the resource is denied: ${detail}`, res.status);
    return new RegistryRequestError(500, `${what}: registry answered ${res.status}: ${detail}`, res.status);
  }

  async failure(res: Response, what: string): Promise<ApiError> {
    const detail = await registryError(res);
    if (res.status === 401 || res.status === 403) return new RegistryRequestError(404, `pull access denied for ${this.repo}, repository does not exist or may require 'docker login': ${detail}`, res.status);
    if (res.status === 404) return new RegistryRequestError(404, `${what} not found: ${detail}`, 404);
    return new RegistryRequestError(500, `${what}: registry answered ${res.status}: ${detail}`, res.status);
  }
}
