// `docker save` / `docker load`: the docker-archive format (manifest.json naming each image's config and
// layer tars, plus repositories) written together with an OCI image layout (oci-layout, index.json, blobs), as
// docker 25 does, so that old and new docker, skopeo and other OCI tools all read it; and reading either form.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import type { ContentStore } from '../content/types.js';
import type { SnapshotStore } from '../snapshots/types.js';
import { chainId } from '../snapshots/store.js';
import { badRequest, noSuchImage } from '../../util/errors.js';
import { decoderFor, decompressed } from './decompress.js';
import { familiarName, normalizeRef, tryParseReference } from './reference.js';
import type { Image, ImageConfigDoc, LayerBlob } from './types.js';
import { MEDIA, layerCompression } from '../registry/manifest.js';

export interface ArchiveImages {
  list(): Image[];
  resolve(ref: string): Image | undefined;
  addImage(configBytes: Buffer, opts: { layers?: LayerBlob[] }): Promise<Image>;
  tag(ref: string, target: string): Promise<void>;
}

export interface ArchiveDeps { images: ArchiveImages; content: ContentStore; snapshots: SnapshotStore; tmpDir: string; maxBytes?: number }

const hex = (d: string) => d.replace(/^sha256:/, '');

export class ImageArchives {
  constructor(private readonly d: ArchiveDeps) {}

  /** Write the images named by `refs` (names keep their tags; IDs are saved untagged) as one tar to `out`. */
  async save(refs: string[], out: Writable): Promise<void> {
    const wanted = new Map<string, { image: Image; tags: string[] }>();
    for (const r of refs) {
      const image = this.d.images.resolve(r);
      if (!image) throw noSuchImage(r);
      const entry = wanted.get(image.id) ?? { image, tags: [] };
      const parsed = tryParseReference(r);
      if (parsed && !/^(sha256:)?[0-9a-f]{6,64}$/.test(r)) {
        // a bare repository name saves all of its tags, as docker does
        if (!parsed.tag && !parsed.digest && !r.includes(':')) entry.tags.push(...image.repoTags.filter((t) => t.startsWith(`${familiarName(parsed)}:`)));
        else if (!parsed.digest) entry.tags.push(normalizeRef(r));
      }
      wanted.set(image.id, entry);
    }
    // every layer must exist as an uncompressed tar blob (its DiffID) before the archive starts
    for (const { image } of wanted.values()) await this.ensureLayerTars(image);
    const pack = tarPack();
    const done = pipeline(pack, out);
    const add = (name: string, body: Buffer) => new Promise<void>((res, rej) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? rej(e) : res())));
    const sizes = new Map<string, number>();
    const sizeOf = async (digest: string) => {
      let n = sizes.get(digest);
      if (n === undefined) sizes.set(digest, (n = (await fs.stat(this.d.content.path(digest))).size));
      return n;
    };
    const addFile = async (name: string, digest: string) => {
      const size = await sizeOf(digest);
      await new Promise<void>((res, rej) => {
        const w = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
        const src = this.d.content.open(digest);
        src.on('error', (e) => w.destroy(e));
        src.pipe(w);
      });
    };
    const written = new Set<string>();
    const manifestJson: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const index: Array<Record<string, unknown>> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { image, tags } of wanted.values()) {
      const diffIds = image.config.rootfs.diff_ids;
      for (const dId of diffIds) {
        if (written.has(dId)) continue;
        written.add(dId);
        await addFile(`blobs/sha256/${hex(dId)}`, dId);
      }
      if (!written.has(image.id)) { written.add(image.id); await addFile(`blobs/sha256/${hex(image.id)}`, image.id); }
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: MEDIA.ociManifest,
        config: { mediaType: MEDIA.ociConfig, digest: image.id, size: await sizeOf(image.id) },
        layers: await Promise.all(diffIds.map(async (dId) => ({ mediaType: MEDIA.ociLayer, digest: dId, size: await sizeOf(dId) }))),
      }));
      const mDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
      if (!written.has(mDigest)) { written.add(mDigest); await add(`blobs/sha256/${hex(mDigest)}`, manifest); }
      const uniqueTags = [...new Set(tags)];
      manifestJson.push({ Config: `blobs/sha256/${hex(image.id)}`, RepoTags: uniqueTags, Layers: diffIds.map((dId) => `blobs/sha256/${hex(dId)}`) });
      const desc = { mediaType: MEDIA.ociManifest, digest: mDigest, size: manifest.length };
      if (uniqueTags.length === 0) index.push(desc);
      for (const t of uniqueTags) {
        const i = t.lastIndexOf(':');
        index.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': t.slice(i + 1) } });
        // the legacy file names the top layer's entry, which here is its blob
        (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = hex(diffIds.at(-1) ?? image.id);
      }
    }
    await add('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: index })));
    await add('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length) await add('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
    await done;
  }

  /** Pulled layers are kept compressed: decompress each once into the blob store under its DiffID. */
  private async ensureLayerTars(image: Image): Promise<void> {
    for (const [i, dId] of image.config.rootfs.diff_ids.entries()) {
      if (this.d.content.has(dId)) continue;
      const blob = image.layers?.[i];
      if (!blob || !this.d.content.has(blob.digest)) throw badRequest(`layer ${dId} of ${image.id} has no stored archive to save`);
      const decoder = decoderFor(layerCompression(blob.mediaType) ?? 'none');
      const src = this.d.content.open(blob.digest);
      if (decoder) src.on('error', (e) => decoder.destroy(e));
      await this.d.content.ingest(decoder ? src.pipe(decoder) : src, { digest: dId });
    }
  }

  /** Read an archive (docker-archive or OCI layout, maybe compressed); returns the names (or IDs) loaded. */
  async load(input: Readable): Promise<string[]> {
    const dir = join(this.d.tmpDir, `load-${Date.now()}-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const links = await this.unpack(input, dir);
      const open = async (name: string): Promise<string> => {
        let rel = posix.normalize(name).replace(/^\/+/, '');
        for (let hops = 0; links.has(rel); hops++) {
          if (hops > 8) throw badRequest(`archive entry ${name}: too many links`);
          rel = links.get(rel)!;
        }
        if (rel.startsWith('..')) throw badRequest(`archive entry ${name} points outside the archive`);
        return join(dir, rel);
      };
      const read = async (name: string) => fs.readFile(await open(name)).catch(() => { throw badRequest(`invalid archive: ${name} is missing`); });
      let manifest: Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
      try {
        manifest = JSON.parse((await read('manifest.json')).toString());
      } catch {
        manifest = await this.fromIndex(read);
      }
      if (!Array.isArray(manifest)) throw badRequest('invalid archive: manifest.json is not a list');
      const loaded: string[] = [];
      for (const m of manifest) {
        const configBytes = await read(m.Config);
        let config: ImageConfigDoc;
        try { config = JSON.parse(configBytes.toString()) as ImageConfigDoc; } catch { throw badRequest(`invalid archive: ${m.Config} is not an image config`); }
        const diffIds = config.rootfs?.diff_ids;
        if (!Array.isArray(diffIds) || diffIds.length !== m.Layers.length) throw badRequest(`invalid archive: ${m.Config} lists ${diffIds?.length ?? 0} layers, manifest.json ${m.Layers.length}`);
        let parent: string | undefined;
        for (const [i, layerName] of m.Layers.entries()) {
          const chain = chainId(parent, diffIds[i]);
          if (!this.d.snapshots.has(chain) || !this.d.content.has(diffIds[i])) {
            const file = await open(layerName);
            const { stream } = await decompressed(createReadStream(file));
            const { digest } = await this.d.content.ingest(stream, { digest: diffIds[i] }).catch((e: Error) => { throw badRequest(`layer ${layerName}: ${e.message}`); });
            if (!this.d.snapshots.has(chain)) await this.d.snapshots.applyLayer(parent, this.d.content.open(digest), { expectDiffId: diffIds[i] });
          }
          parent = chain;
        }
        const image = await this.d.images.addImage(configBytes, {});
        const tags = m.RepoTags ?? [];
        for (const t of tags) await this.d.images.tag(image.id, t);
        loaded.push(...(tags.length ? tags.map((t) => `Loaded image: ${familiarTag(t)}`) : [`Loaded image ID: ${image.id}`]));
      }
      return loaded;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** A pure OCI layout: index.json → manifests → config and layers, names from the annotations. */
  private async fromIndex(read: (n: string) => Promise<Buffer>): Promise<Array<{ Config: string; RepoTags: string[]; Layers: string[] }>> {
    let index: { manifests?: Array<{ digest: string; annotations?: Record<string, string> }> };
    try { index = JSON.parse((await read('index.json')).toString()); } catch { throw badRequest('invalid archive: neither manifest.json nor index.json found'); }
    const out: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    for (const desc of index.manifests ?? []) {
      const m = JSON.parse((await read(`blobs/sha256/${hex(desc.digest)}`)).toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
      // containerd's full name, else an OCI ref.name that is itself a full reference ("app:1", not just "1")
      const refName = desc.annotations?.['org.opencontainers.image.ref.name'];
      const name = desc.annotations?.['io.containerd.image.name'] ?? (refName && /[:/]/.test(refName) && tryParseReference(refName) ? refName : undefined);
      out.push({ Config: `blobs/sha256/${hex(m.config.digest)}`, RepoTags: name ? [name] : [], Layers: m.layers.map((l) => `blobs/sha256/${hex(l.digest)}`) });
    }
    return out;
  }

  /** Unpack regular files into `dir`; symlinks between entries are remembered, never created. */
  private async unpack(input: Readable, dir: string): Promise<Map<string, string>> {
    const { stream } = await decompressed(input);
    const links = new Map<string, string>();
    const max = this.d.maxBytes ?? 64 * 1024 ** 3;
    let total = 0;
    const ex = tarExtract();
    const feeding = pipeline(stream, ex).catch((e: unknown) => { ex.destroy(e as Error); });
    for await (const entry of ex) {
      const name = posix.normalize(entry.header.name).replace(/^\/+/, '').replace(/\/+$/, '');
      if (name === '' || name === '.' || name.startsWith('..')) { entry.resume(); if (name.startsWith('..')) throw badRequest(`invalid archive entry ${entry.header.name}`); continue; }
      if (entry.header.type === 'symlink') {
        const target = posix.normalize(posix.join(posix.dirname(name), entry.header.linkname ?? ''));
        links.set(name, target);
        entry.resume();
        continue;
      }
      if (entry.header.type !== 'file') { entry.resume(); continue; }
      const path = join(dir, name);
      await fs.mkdir(dirname(path), { recursive: true });
      const fh = await fs.open(path, 'wx', 0o600);
      try {
        for await (const chunk of entry) {
          total += (chunk as Buffer).length;
          if (total > max) throw badRequest(`archive exceeds the maximum size of ${max} bytes`);
          await fh.write(chunk as Buffer);
        }
      } finally {
        await fh.close();
      }
    }
    await feeding;
    return links;
  }
}

/** "docker.io/library/busybox:latest" → "busybox:latest" in messages. */
function familiarTag(t: string): string {
  const r = tryParseReference(t);
  return r ? normalizeRef(t) : t;
}

