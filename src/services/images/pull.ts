// `docker pull`: resolve the manifest (an index picks the platform), fetch and check the config, then fetch the
// layers a few at a time, each streamed at once into the blob store (compressed, checked against its digest and
// size) and, still compressed, into its snapshot (inflated there, checked against the config's DiffID). Nothing
// unchecked is kept.
// Progress goes out as docker's JSON messages.
import { createHash } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import type { ContentStore } from '../content/types.js';
import type { SnapshotStore } from '../snapshots/types.js';
import { chainId } from '../snapshots/store.js';
import { ApiError, badRequest } from '../../util/errors.js';
import { humanSizePrec } from '../../util/units.js';
import { familiarName, familiarString, parseReference, registryHostOf, withDefaultTag, type Reference } from './reference.js';
import type { Image, ImageConfigDoc, LayerBlob } from './types.js';
import { RegistryClient, registryBase, type RegistryOptions } from '../registry/client.js';
import type { Credentials } from '../registry/auth.js';
import { ACCEPT_MANIFESTS, layerCompression, parseManifest, parsePlatform, pickPlatform, platformString, type Descriptor, type ImageManifest, type Platform } from '../registry/manifest.js';

export interface ProgressMessage { status: string; id?: string; progress?: string; progressDetail?: { current?: number; total?: number }; aux?: unknown }
export type Progress = (m: ProgressMessage) => void;

export interface PullTarget {
  list(): Image[];
  resolve(ref: string): Image | undefined;
  addImage(configBytes: Buffer, opts: { layers?: LayerBlob[] }): Promise<Image>;
  tag(ref: string, target: string): Promise<void>;
  addRepoDigest(name: string, digest: string, imageId: string): Promise<void>;
}

export interface SearchResult { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }

export interface PullOptions { platform?: string; creds?: Credentials; progress: Progress }

export interface PullerDeps {
  images: PullTarget;
  content: ContentStore;
  snapshots: SnapshotStore;
  registry: RegistryOptions & { mirrors?: string[]; concurrentDownloads?: number };
}

const MAX_CONFIG = 8 << 20;
const MAX_MANIFEST = 4 << 20;

/** docker's progress bar: 50 columns, then current/total. */
export function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const bar = filled === 0 ? '' : filled >= width ? '='.repeat(width) : `${'='.repeat(filled - 1)}>`;
  return `[${bar.padEnd(width)}] ${humanSizePrec(current, 4)}/${humanSizePrec(total, 4)}`;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

export class Puller {
  constructor(private readonly d: PullerDeps) {}

  /** Pull `refString` (tag defaults to latest); resolves with the local image. */
  async pull(refString: string, o: PullOptions): Promise<Image> {
    const ref = withDefaultTag(parseReference(refString));
    const want = parsePlatform(o.platform);
    const clients = this.clients(ref, o.creds);
    const { client, manifest, digest } = await this.resolveManifest(clients, ref, want);
    o.progress({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag });
    const configBytes = await this.fetchSmall(client, manifest.config, MAX_CONFIG, 'config');
    const config = parseConfig(configBytes);
    if (config.os !== want.os || (config.architecture !== want.architecture)) {
      throw new ApiError(404, `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${platformString(want)}, actual: ${config.os}/${config.architecture}`);
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) throw badRequest(`invalid image: the manifest has ${manifest.layers.length} layers but the config ${diffIds.length} DiffIDs`);
    for (const l of manifest.layers) if (!layerCompression(l.mediaType)) throw badRequest(`unsupported layer media type ${l.mediaType}`);

    const existing = this.d.images.resolve(sha256(configBytes));
    const chains: string[] = [];
    for (const dId of diffIds) chains.push(chainId(chains[chains.length - 1], dId));
    const todo: number[] = [];
    manifest.layers.forEach((l, i) => {
      if (this.d.snapshots.has(chains[i])) o.progress({ status: 'Already exists', id: shortDigest(l.digest) });
      else { todo.push(i); o.progress({ status: 'Pulling fs layer', id: shortDigest(l.digest) }); }
    });
    const limit = Math.max(1, this.d.registry.concurrentDownloads ?? 3);
    todo.slice(limit).forEach((i) => o.progress({ status: 'Waiting', id: shortDigest(manifest.layers[i].digest) }));
    const made: string[] = [];
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (next < todo.length && failure === undefined) {
        const i = todo[next++];
        try {
          if (await this.fetchLayer(client, manifest.layers[i], i === 0 ? undefined : chains[i - 1], diffIds[i], o.progress)) made.push(chains[i]);
        } catch (e) { failure ??= e; }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, todo.length) }, worker));
    if (failure !== undefined) {
      // layers unpacked for this pull go with it when nothing else has them
      for (const c of made) if (!this.chainInUse(c)) await this.d.snapshots.remove(c).catch(() => undefined);
      throw failure;
    }
    const image = await this.d.images.addImage(configBytes, { layers: manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })) });
    const name = familiarName(ref);
    const before = ref.tag ? this.d.images.resolve(`${name}:${ref.tag}`) : undefined;
    if (ref.tag) await this.d.images.tag(image.id, `${name}:${ref.tag}`);
    await this.d.images.addRepoDigest(name, digest, image.id);
    o.progress({ status: `Digest: ${digest}` });
    const upToDate = existing && (!ref.tag || before?.id === image.id);
    o.progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}` });
    return image;
  }

  /** `docker login`: the registry (host, or Docker Hub when empty) accepts these credentials. */
  async checkLogin(server: string, creds: Credentials): Promise<void> {
    const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = !host || host === 'index.docker.io' ? 'docker.io' : host;
    await new RegistryClient(registryBase(domain, this.d.registry), '', creds).ping();
  }

  /**
   * `docker search`: the registry's search API (GET /v1/search, Docker Hub's and tugboat's registry's). A term
   * starting with a registry host searches that registry, anything else Docker Hub.
   */
  async search(term: string, limit: number, creds?: Credentials): Promise<SearchResult[]> {
    const host = registryHostOf(term);
    const base = host ? registryBase(host, this.d.registry) : 'https://index.docker.io';
    const q = host ? term.slice(host.length + 1) : term;
    const client = new RegistryClient(base, '', creds);
    const res = await client.request('GET', `/v1/search?q=${encodeURIComponent(q)}&n=${limit}`);
    if (!res.ok) throw new ApiError(res.status === 404 ? 404 : 502, `search on ${base}: ${res.status === 404 ? 'this registry has no search API' : `registry answered ${res.status}`}`);
    const body = (await res.json()) as { results?: SearchResult[] };
    return (body.results ?? []).map((r) => ({ ...r, name: host ? `${host}/${r.name}` : r.name }));
  }

  /** `pull -a`: every tag of the repository. */
  async pullAllTags(repo: string, o: PullOptions): Promise<void> {
    const ref = parseReference(repo);
    if (ref.tag || ref.digest) throw badRequest('tag can not be used with --all-tags/-a');
    const client = this.clients(ref, o.creds).at(-1)!;
    const res = await client.request('GET', `/v2/${ref.path}/tags/list`);
    if (!res.ok) throw await client.failure(res, `tags of ${familiarName(ref)}`);
    const tags = ((await res.json()) as { tags?: string[] | null }).tags ?? [];
    for (const t of tags.sort()) await this.pull(`${familiarName(ref)}:${t}`, o);
  }

  private chainInUse(chain: string): boolean {
    return this.d.images.list().some((i) => i.chainIds.includes(chain));
  }

  private blobInUse(digest: string): boolean {
    return this.d.images.list().some((i) => i.layers?.some((l) => l.digest === digest));
  }

  /** Registry clients to try: the mirrors first for Docker Hub, then the registry itself. */
  private clients(ref: Reference, creds: Credentials | undefined): RegistryClient[] {
    const out: RegistryClient[] = [];
    if (ref.domain === 'docker.io') for (const m of this.d.registry.mirrors ?? []) out.push(new RegistryClient(m.replace(/\/+$/, ''), ref.path, undefined));
    out.push(new RegistryClient(registryBase(ref.domain, this.d.registry), ref.path, creds));
    return out;
  }

  private async resolveManifest(clients: RegistryClient[], ref: Reference, want: Platform): Promise<{ client: RegistryClient; manifest: ImageManifest; digest: string }> {
    let lastError: unknown;
    for (const client of clients) {
      try {
        const top = await client.getManifest(ref.digest ?? ref.tag ?? 'latest', ACCEPT_MANIFESTS);
        if (top.body.length > MAX_MANIFEST) throw badRequest('manifest too large');
        const topDigest = sha256(top.body);
        if (ref.digest && topDigest !== ref.digest) throw badRequest(`manifest verification failed for digest ${ref.digest}: got ${topDigest}`);
        const parsed = parseManifest(top.body, top.contentType);
        if (parsed.kind === 'image') return { client, manifest: parsed.doc, digest: topDigest };
        const entry = pickPlatform(parsed.doc, want);
        if (!entry) throw new ApiError(404, `no matching manifest for ${platformString(want)} in the manifest list entries`);
        const inner = await client.getManifest(entry.digest, ACCEPT_MANIFESTS);
        if (sha256(inner.body) !== entry.digest || inner.body.length !== entry.size) throw badRequest(`manifest verification failed for digest ${entry.digest}`);
        const p = parseManifest(inner.body, inner.contentType);
        if (p.kind !== 'image') throw badRequest(`invalid manifest: ${entry.digest} in the index is itself an index`);
        return { client, manifest: p.doc, digest: topDigest };
      } catch (e) {
        lastError = e;
        if (client !== clients[clients.length - 1]) continue; // a mirror failed: fall back to the registry
      }
    }
    throw lastError instanceof ApiError ? lastError : new ApiError(500, (lastError as Error).message);
  }

  private async fetchSmall(client: RegistryClient, desc: Descriptor, max: number, what: string): Promise<Buffer> {
    if (desc.size > max) throw badRequest(`${what} blob too large (${desc.size} bytes)`);
    if (this.d.content.has(desc.digest)) return this.d.content.read(desc.digest);
    const { stream } = await client.getBlob(desc.digest);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      n += (c as Buffer).length;
      if (n > desc.size) { stream.destroy(); throw badRequest(`${what} blob ${desc.digest} is larger than its manifest says`); }
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks);
    if (body.length !== desc.size || sha256(body) !== desc.digest) throw badRequest(`${what} blob verification failed: expected ${desc.digest}, got ${sha256(body)}`);
    return body;
  }

  /** Download one layer into the blob store and its snapshot at once. Returns whether a new snapshot was made. */
  private async fetchLayer(client: RegistryClient, desc: Descriptor, parent: string | undefined, diffId: string, progress: Progress): Promise<boolean> {
    const id = shortDigest(desc.digest);
    const chain = chainId(parent, diffId);
    if (this.d.snapshots.has(chain)) { progress({ status: 'Already exists', id }); return false; }
    const { stream } = await client.getBlob(desc.digest);
    let got = 0;
    let lastReport = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        got += chunk.length;
        if (got > desc.size) { cb(badRequest(`layer ${desc.digest} is larger than its manifest says (${desc.size} bytes)`)); return; }
        const now = Date.now();
        if (now - lastReport > 100 || got === desc.size) {
          lastReport = now;
          progress({ status: 'Downloading', id, progressDetail: { current: got, total: desc.size }, progress: progressBar(got, desc.size) });
        }
        cb(null, chunk);
      },
    });
    const toBlob = new PassThrough({ highWaterMark: 1 << 20 });
    const toSnapshot = new PassThrough({ highWaterMark: 1 << 20 });
    const compression = layerCompression(desc.mediaType);
    // either side failing stops both: a stalled reader must not hold the other one forever
    const fail = (e: Error) => { stream.destroy(); toBlob.destroy(e); toSnapshot.destroy(e); };
    stream.on('error', fail);
    meter.on('error', fail);
    stream.pipe(meter);
    meter.pipe(toBlob);
    meter.pipe(toSnapshot);
    const blobP = this.d.content.ingest(toBlob, { digest: desc.digest, size: desc.size }).then(() => {
      progress({ status: 'Verifying Checksum', id });
      progress({ status: 'Download complete', id });
    });
    // inflated where it is unpacked: on a worker thread of the snapshot store
    const snapP = this.d.snapshots.applyLayer(parent, toSnapshot, { expectDiffId: diffId, parentMayBeMissing: true, compression: compression === 'none' ? undefined : compression });
    blobP.catch(fail);
    snapP.catch(fail);
    const [b, s] = await Promise.allSettled([blobP, snapP]);
    if (b.status === 'rejected' || s.status === 'rejected') {
      stream.destroy();
      if (s.status === 'fulfilled' && !this.chainInUse(s.value.chainId)) await this.d.snapshots.remove(s.value.chainId).catch(() => undefined);
      if (b.status === 'fulfilled' && !this.blobInUse(desc.digest)) await this.d.content.delete(desc.digest).catch(() => undefined);
      const e = (b.status === 'rejected' ? b.reason : (s as PromiseRejectedResult).reason) as Error;
      throw e instanceof ApiError ? e : badRequest(`layer ${desc.digest}: ${e.message}`);
    }
    progress({ status: 'Extracting', id, progressDetail: { current: desc.size, total: desc.size }, progress: progressBar(desc.size, desc.size) });
    progress({ status: 'Pull complete', id });
    return true;
  }
}

function parseConfig(bytes: Buffer): ImageConfigDoc {
  let c: ImageConfigDoc;
  try {
    c = JSON.parse(bytes.toString('utf8')) as ImageConfigDoc;
  } catch {
    throw badRequest('invalid image config: not JSON');
  }
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids) || !c.rootfs.diff_ids.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw badRequest('invalid image config: rootfs.diff_ids missing or malformed');
  }
  return c;
}
