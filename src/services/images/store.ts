// Local images: config documents are content blobs (image ID = their sha256), layers are snapshots,
// and two kinds of small JSON state sit under <root>: meta/<hex>.json per image and the tag table
// repositories.json (docker's shape, familiar names as keys). Mutations are serialised by a queue.
import { createHash } from 'node:crypto';
import { mkdirSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { ContentStore } from '../content/types.js';
import type { SnapshotStore } from '../snapshots/types.js';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { ApiError, badRequest, conflict, noSuchImage } from '../../util/errors.js';
import { shortId } from '../../util/ids.js';
import { log } from '../../util/log.js';
import { applyChanges } from './changes.js';
import { decompressed } from './decompress.js';
import { familiarName, normalizeRef, parseReference, tryParseReference } from './reference.js';
import type { Image, ImageConfigDoc, ImageService, ImportOptions, LayerBlob, RemoveResult } from './types.js';

export interface LocalImageServiceOptions {
  root: string;
  content: ContentStore;
  snapshots: SnapshotStore;
  /** Cap on an imported layer's uncompressed size (decompression bombs). Default 64 GiB. */
  maxLayerBytes?: number;
}

interface ImageMeta {
  id: string;
  chainIds: string[];
  layerSizes: number[];
  parent?: string;
  loaded: string;
  /** The registry form of each layer (compressed blob) when the image came from a registry. */
  layers?: LayerBlob[];
}

interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;

function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}` : d);
  }
  return out;
}

/** The familiar repository name of a table key ("busybox:latest" -> "busybox", "a@sha256:…" -> "a"). */
function repoOf(key: string): string {
  const r = tryParseReference(key);
  return r ? familiarName(r) : key;
}
const isDigestKey = (key: string) => key.includes('@');

export class LocalImageService implements ImageService {
  private readonly root: string;
  private readonly content: ContentStore;
  private readonly snapshots: SnapshotStore;
  private readonly maxLayerBytes: number;
  private readonly images = new Map<string, Image>();
  /** Display reference ("busybox:latest", "busybox@sha256:…") -> image ID. */
  private readonly refs = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: LocalImageServiceOptions) {
    this.root = opts.root;
    this.content = opts.content;
    this.snapshots = opts.snapshots;
    this.maxLayerBytes = opts.maxLayerBytes ?? 64 * 1024 ** 3;
    mkdirSync(join(this.root, 'meta'), { recursive: true, mode: 0o700 });
  }

  /** Reads the state from disk; images whose config or layers are missing are skipped with a warning. */
  async load(): Promise<void> {
    this.images.clear();
    this.refs.clear();
    for (const name of await fs.readdir(join(this.root, 'meta'))) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      try {
        const meta = await readJson<ImageMeta>(join(this.root, 'meta', name));
        if (!meta) continue;
        const config = JSON.parse((await this.content.read(meta.id)).toString('utf8')) as ImageConfigDoc;
        const missing = meta.chainIds.find((c) => !this.snapshots.has(c));
        if (missing) throw new Error(`layer ${missing} missing`);
        this.images.set(meta.id, this.toImage(meta, config));
      } catch (e) {
        log.warn('skipping unreadable image', { file: name, error: (e as Error).message });
      }
    }
    const repos = await readJson<RepositoriesFile>(this.reposPath());
    for (const table of Object.values(repos?.Repositories ?? {})) {
      for (const [key, id] of Object.entries(table)) if (this.images.has(id)) this.refs.set(key, id);
    }
    this.reindex();
  }

  list(): Image[] {
    return [...this.images.values()];
  }

  resolve(ref: string): Image | undefined {
    return this.lookup(ref)?.image;
  }

  /** Finds an image and says whether `ref` named it through the tag table (else by ID). */
  private lookup(ref: string): { image: Image; key?: string } | undefined {
    const full = FULL_ID.exec(ref);
    if (full) {
      const image = this.images.get(`sha256:${full[1]}`);
      if (image) return { image };
    }
    const parsed = tryParseReference(ref);
    if (parsed) {
      const key = normalizeRef(ref);
      const id = this.refs.get(key);
      if (id) return { image: this.images.get(id)!, key };
    }
    const prefix = ID_PREFIX.exec(ref);
    if (prefix) {
      const hits = [...this.images.values()].filter((i) => i.id.startsWith(`sha256:${prefix[1]}`));
      if (hits.length === 1) return { image: hits[0] };
    }
    return undefined;
  }

  async importTar(input: Readable, opts: ImportOptions): Promise<Image> {
    // Validate everything cheap before reading the (possibly huge) body.
    const target = opts.reference ? this.tagTarget(opts.reference) : undefined;
    const runConfig = applyChanges({}, opts.changes ?? []);
    const { os, architecture, variant } = platformOf(opts.platform);
    let layerDigest: string | undefined;
    try {
      const { stream } = await decompressed(input);
      // The uncompressed tar is kept as a blob (its digest is the diffId): save and push need it.
      const capped = byteCap(this.maxLayerBytes);
      pipeline(stream, capped, () => { /* errors reach ingest through the destroyed `capped` */ });
      const { digest } = await this.content.ingest(capped);
      layerDigest = digest;
      const layer = await this.snapshots.applyLayer(undefined, this.content.open(digest));
      if (layer.diffId !== digest) throw new Error(`layer digest changed while applying (${digest} vs ${layer.diffId})`);
      const created = new Date().toISOString();
      const comment = opts.message || 'Imported from -';
      const config: ImageConfigDoc & { variant?: string } = {
        architecture,
        ...(variant ? { variant } : {}),
        os,
        created,
        comment,
        config: runConfig,
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created, comment }],
      };
      return await this.serial(async () => {
        const image = await this.addImageLocked(Buffer.from(JSON.stringify(config)));
        if (target) await this.setRefLocked(target, image.id);
        return image;
      });
    } catch (e) {
      if (layerDigest && !this.diffIdInUse(layerDigest)) await this.content.delete(layerDigest).catch(() => undefined);
      if (e instanceof ApiError) throw e;
      // Bad archives (not a tar, corrupt gzip, unsafe entries) are the client's fault; I/O errors are ours.
      if (/^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code ?? '')) throw e;
      throw badRequest(`failed to import archive: ${(e as Error).message}`);
    }
  }

  /**
   * Registers an image from its config JSON bytes; every layer in rootfs.diff_ids must already be a
   * snapshot (apply them bottom-up first). For pull and load as well as import.
   */
  async addImage(configBytes: Buffer, opts: { parent?: string; layers?: LayerBlob[] } = {}): Promise<Image> {
    return this.serial(() => this.addImageLocked(configBytes, opts));
  }

  private async addImageLocked(configBytes: Buffer, opts: { parent?: string; layers?: LayerBlob[] } = {}): Promise<Image> {
    let config: ImageConfigDoc;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfigDoc;
    } catch (e) {
      throw badRequest(`invalid image config: ${(e as Error).message}`);
    }
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds)) throw badRequest('invalid image config: no rootfs.diff_ids');
    const chains = chainIds(diffIds);
    const missing = chains.find((c) => !this.snapshots.has(c));
    if (missing) throw badRequest(`image layer ${missing} has not been unpacked`);
    const { digest: id } = await this.content.put(configBytes);
    const existing = this.images.get(id);
    if (existing) return existing;
    const meta: ImageMeta = { id, chainIds: chains, layerSizes: chains.map((c) => this.snapshots.size(c)), parent: opts.parent, loaded: new Date().toISOString(), ...(opts.layers ? { layers: opts.layers } : {}) };
    await writeJsonAtomic(this.metaPath(id), meta);
    const image = this.toImage(meta, config);
    this.images.set(id, image);
    return image;
  }

  async tag(ref: string, target: string): Promise<void> {
    const image = this.resolve(ref);
    if (!image) throw noSuchImage(ref);
    const key = this.tagTarget(target);
    await this.serial(() => this.setRefLocked(key, image.id));
  }

  /** Remembers the compressed registry form of an image's layers (made by a push). */
  async setLayerBlobs(imageId: string, layers: LayerBlob[]): Promise<void> {
    await this.serial(async () => {
      const image = this.images.get(imageId);
      if (!image) throw noSuchImage(imageId);
      const meta = await readJson<ImageMeta>(this.metaPath(imageId));
      if (!meta) throw noSuchImage(imageId);
      await writeJsonAtomic(this.metaPath(imageId), { ...meta, layers });
      image.layers = layers;
    });
  }

  /** Records "name@sha256:…" for an image (what a pull or push learns). */
  async addRepoDigest(name: string, digest: string, imageId: string): Promise<void> {
    const key = normalizeRef(`${familiarName(parseReference(name))}@${digest}`);
    await this.serial(() => this.setRefLocked(key, imageId));
  }

  async remove(ref: string, opts: { force: boolean; noprune: boolean }, inUse: (imageId: string) => string | undefined): Promise<RemoveResult[]> {
    return this.serial(async () => {
      const found = this.lookup(ref);
      // docker names the normalised reference here ("No such image: x:latest").
      if (!found) throw noSuchImage(tryParseReference(ref) ? normalizeRef(ref) : ref);
      const { image, key } = found;
      const short = shortId(image.id);
      const records: RemoveResult[] = [];
      if (key) {
        // By name: untag; the image goes only with its last reference.
        const user = inUse(image.id);
        if (!opts.force && user && this.refsOf(image.id).length === 1) {
          throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(user)} is using its referenced image ${short}`);
        }
        this.refs.delete(key);
        records.push({ Untagged: key });
        if (!isDigestKey(key)) {
          // Without any tag of that repository left, its digest references go too (as docker does).
          const repo = repoOf(key);
          const remaining = this.refsOf(image.id);
          if (!remaining.some((k) => !isDigestKey(k) && repoOf(k) === repo)) {
            for (const k of remaining) if (isDigestKey(k) && repoOf(k) === repo) { this.refs.delete(k); records.push({ Untagged: k }); }
          }
        }
        await this.saveRefs();
        if (this.refsOf(image.id).length > 0 || user || this.hasChildren(image.id)) return records;
      } else {
        // By ID: several repositories need force; a container using it needs force and keeps it.
        const refs = this.refsOf(image.id);
        const tags = refs.filter((k) => !isDigestKey(k));
        const single = tags.length <= 1 && new Set(refs.map(repoOf)).size <= 1;
        if (!single && !opts.force) throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
        if (this.hasChildren(image.id)) throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image has dependent child images`);
        const user = inUse(image.id);
        if (user && !opts.force) throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${shortId(user)}`);
        for (const k of refs) { this.refs.delete(k); records.push({ Untagged: k }); }
        await this.saveRefs();
        // Forced while a container uses it: untag only, its layers are still that container's rootfs.
        if (user) return records;
      }
      await this.deleteLocked(image, records, opts.noprune, inUse);
      return records;
    });
  }

  lowerDirs(image: Image): string[] {
    return [...image.chainIds].reverse().map((c) => this.snapshots.dir(c));
  }

  // ---- internals ----

  private async deleteLocked(image: Image, records: RemoveResult[], noprune: boolean, inUse: (id: string) => string | undefined): Promise<void> {
    this.images.delete(image.id);
    await fs.rm(this.metaPath(image.id), { force: true });
    records.push({ Deleted: image.id });
    // Layers and blobs no remaining image shares go with it.
    const liveChains = new Set([...this.images.values()].flatMap((i) => i.chainIds));
    for (const c of image.chainIds) if (!liveChains.has(c)) await this.snapshots.remove(c);
    for (const d of image.config.rootfs.diff_ids) if (!this.diffIdInUse(d)) await this.content.delete(d);
    for (const l of image.layers ?? []) if (![...this.images.values()].some((i) => i.layers?.some((x) => x.digest === l.digest))) await this.content.delete(l.digest);
    await this.content.delete(image.id);
    // A parent left untagged and childless is pruned too, unless noprune.
    const parent = image.parent ? this.images.get(image.parent) : undefined;
    if (!noprune && parent && this.refsOf(parent.id).length === 0 && !this.hasChildren(parent.id) && !inUse(parent.id)) {
      await this.deleteLocked(parent, records, noprune, inUse);
    }
  }

  private diffIdInUse(diffId: string): boolean {
    for (const i of this.images.values()) if (i.config.rootfs.diff_ids.includes(diffId)) return true;
    return false;
  }

  private hasChildren(id: string): boolean {
    for (const i of this.images.values()) if (i.parent === id) return true;
    return false;
  }

  private refsOf(id: string): string[] {
    return [...this.refs].filter(([, v]) => v === id).map(([k]) => k);
  }

  /** Validates a tag target ("repo[:tag]") and returns its table key. */
  private tagTarget(target: string): string {
    const r = parseReference(target);
    if (r.digest !== undefined) throw badRequest('refusing to create a tag with a digest reference');
    return normalizeRef(target);
  }

  private async setRefLocked(key: string, id: string): Promise<void> {
    if (!this.images.has(id)) throw noSuchImage(id);
    this.refs.set(key, id);
    await this.saveRefs();
  }

  private async saveRefs(): Promise<void> {
    const Repositories: RepositoriesFile['Repositories'] = {};
    for (const [key, id] of this.refs) (Repositories[repoOf(key)] ??= {})[key] = id;
    await writeJsonAtomic(this.reposPath(), { Repositories } satisfies RepositoriesFile);
    this.reindex();
  }

  /** Recomputes every image's RepoTags/RepoDigests from the table. */
  private reindex(): void {
    for (const i of this.images.values()) { i.repoTags = []; i.repoDigests = []; }
    for (const [key, id] of this.refs) {
      const i = this.images.get(id);
      if (i) (isDigestKey(key) ? i.repoDigests : i.repoTags).push(key);
    }
  }

  private toImage(meta: ImageMeta, config: ImageConfigDoc): Image {
    const layerSizes = meta.layerSizes ?? meta.chainIds.map((c) => this.snapshots.size(c));
    return {
      id: meta.id,
      config,
      repoTags: [],
      repoDigests: [],
      chainIds: meta.chainIds,
      size: layerSizes.reduce((a, b) => a + b, 0),
      layerSizes,
      parent: meta.parent,
      loaded: meta.loaded,
      ...(meta.layers ? { layers: meta.layers } : {}),
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private metaPath(id: string): string {
    return join(this.root, 'meta', `${id.replace(/^sha256:/, '')}.json`);
  }

  private reposPath(): string {
    return join(this.root, 'repositories.json');
  }
}

/** "linux/amd64[/v8]" (default linux/amd64); only linux images make sense here. */
function platformOf(p: string | undefined): { os: string; architecture: string; variant?: string } {
  if (!p) return { os: 'linux', architecture: 'amd64' };
  const [os, architecture = 'amd64', variant] = p.toLowerCase().split('/');
  if (os !== 'linux') throw badRequest(`unsupported platform: ${p}`);
  return { os, architecture, variant };
}

function byteCap(max: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > max) cb(badRequest(`archive exceeds the maximum uncompressed size of ${max} bytes`));
      else cb(null, chunk);
    },
  });
}
