// `docker push`: each layer goes up as a compressed blob — the one it was pulled as, or a gzip made once from
// its tar and remembered — unless the registry has it already or can mount it from another repository; then
// the config, then a manifest under the tag. Progress goes out as docker's JSON messages.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { ContentStore } from '../content/types.js';
import { ApiError, badRequest, noSuchImage } from '../../util/errors.js';
import { familiarName, parseReference, type Reference } from './reference.js';
import type { Image, LayerBlob } from './types.js';
import { RegistryClient, registryBase, type RegistryOptions } from '../registry/client.js';
import type { Credentials } from '../registry/auth.js';
import { MEDIA } from '../registry/manifest.js';
import { progressBar, type Progress } from './pull.js';

export interface PushSource {
  list(): Image[];
  resolve(ref: string): Image | undefined;
  addRepoDigest(name: string, digest: string, imageId: string): Promise<void>;
  /** Remember the compressed form made for a push, so the next push sends the same blob. */
  setLayerBlobs(imageId: string, layers: LayerBlob[]): Promise<void>;
}

export interface PusherDeps { images: PushSource; content: ContentStore; registry: RegistryOptions & { concurrentUploads?: number } }

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

export class Pusher {
  constructor(private readonly d: PusherDeps) {}

  /** Push `name` with `tag`, or every tag of the repository when tag is empty. */
  async push(name: string, tag: string, o: { creds?: Credentials; progress: Progress }): Promise<void> {
    const ref = parseReference(name);
    if (ref.tag || ref.digest) throw badRequest(`invalid reference: push takes the tag separately: ${name}`);
    const repo = familiarName(ref);
    const tags = tag ? [tag] : this.tagsOf(repo);
    if (tags.length === 0) throw new ApiError(404, `An image does not exist locally with the tag: ${repo}`);
    o.progress({ status: `The push refers to repository [${ref.domain === 'docker.io' ? `docker.io/${ref.path}` : repo}]` });
    const client = new RegistryClient(registryBase(ref.domain, this.d.registry), ref.path, o.creds, 'pull,push');
    for (const t of tags) {
      const image = this.d.images.resolve(`${repo}:${t}`);
      if (!image) throw new ApiError(404, `An image does not exist locally with the tag: ${repo}${tag ? `:${t}` : ''}`);
      await this.pushImage(client, ref, repo, t, image, o.progress);
    }
  }

  private tagsOf(repo: string): string[] {
    const out: string[] = [];
    for (const i of this.d.images.list()) for (const t of i.repoTags) if (t.startsWith(`${repo}:`) && t.lastIndexOf(':') === repo.length) out.push(t.slice(repo.length + 1));
    return out.sort();
  }

  private async pushImage(client: RegistryClient, ref: Reference, repo: string, tag: string, image: Image, progress: Progress): Promise<void> {
    const layers = await this.layerBlobs(image);
    // top layer first, as docker lists them
    for (const l of [...layers].reverse()) progress({ status: 'Preparing', id: short(l.digest) });
    const mountFrom = this.mountSource(ref, repo);
    const limit = Math.max(1, this.d.registry.concurrentUploads ?? 3);
    let next = 0;
    let failure: unknown;
    const order = [...layers].reverse();
    const worker = async () => {
      while (next < order.length && failure === undefined) {
        const l = order[next++];
        try { await this.pushBlob(client, l, mountFrom, progress, true); } catch (e) { failure ??= e; }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, order.length) }, worker));
    if (failure !== undefined) throw failure;
    const configBytes = await this.d.content.read(image.id);
    await this.pushBlob(client, { mediaType: MEDIA.dockerConfig, digest: image.id, size: configBytes.length }, undefined, progress, false);
    const oci = layers.some((l) => l.mediaType.startsWith('application/vnd.oci.'));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: oci ? MEDIA.ociManifest : MEDIA.dockerManifest,
      config: { mediaType: oci ? MEDIA.ociConfig : MEDIA.dockerConfig, size: configBytes.length, digest: image.id },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
    }, null, 3));
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const reported = await client.putManifest(tag, oci ? MEDIA.ociManifest : MEDIA.dockerManifest, manifest);
    if (reported && reported !== digest) throw new ApiError(502, `the registry stored the manifest as ${reported}, not ${digest}`);
    await this.d.images.addRepoDigest(repo, digest, image.id);
    progress({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
    progress({ status: '', aux: { Tag: tag, Digest: digest, Size: manifest.length } });
  }

  /** A repository on the same registry that already has this image's layers (from where it was pulled). */
  private mountSource(ref: Reference, repo: string): string | undefined {
    for (const i of this.d.images.list()) {
      for (const rd of i.repoDigests) {
        const name = rd.slice(0, rd.indexOf('@'));
        const r = parseReference(name);
        if (r.domain === ref.domain && familiarName(r) !== repo) return r.path;
      }
    }
    return undefined;
  }

  private async pushBlob(client: RegistryClient, blob: LayerBlob, mountFrom: string | undefined, progress: Progress, show: boolean): Promise<void> {
    const id = short(blob.digest);
    if (await client.hasBlob(blob.digest)) { if (show) progress({ status: 'Layer already exists', id }); return; }
    const up = await client.startUpload(mountFrom && show ? { digest: blob.digest, from: mountFrom } : undefined);
    if (up.mounted) { progress({ status: `Mounted from ${mountFrom}`, id }); return; }
    let sent = 0;
    let last = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        sent += chunk.length;
        const now = Date.now();
        if (show && (now - last > 100 || sent === blob.size)) { last = now; progress({ status: 'Pushing', id, progressDetail: { current: sent, total: blob.size }, progress: progressBar(sent, blob.size) }); }
        cb(null, chunk);
      },
    });
    const src = this.d.content.open(blob.digest);
    src.on('error', (e) => meter.destroy(e));
    await client.finishUpload(up.location, blob.digest, blob.size, src.pipe(meter));
    if (show) progress({ status: 'Pushed', id });
  }

  /** The compressed blob of every layer: as pulled, or gzipped once from the layer tar (then remembered). */
  private async layerBlobs(image: Image): Promise<LayerBlob[]> {
    const diffIds = image.config.rootfs.diff_ids;
    if (image.layers && image.layers.length === diffIds.length && image.layers.every((l) => this.d.content.has(l.digest))) return image.layers;
    const out: LayerBlob[] = [];
    for (const [i, diffId] of diffIds.entries()) {
      const known = image.layers?.[i];
      if (known && this.d.content.has(known.digest)) { out.push(known); continue; }
      if (!this.d.content.has(diffId)) throw noSuchImage(`layer ${diffId} of ${image.id} has no stored archive to push`);
      const gz = createGzip({ level: 6, chunkSize: 1 << 20 });
      const src = this.d.content.open(diffId);
      src.on('error', (e) => gz.destroy(e));
      const { digest, size } = await this.d.content.ingest(src.pipe(gz));
      out.push({ mediaType: MEDIA.dockerLayer, digest, size });
    }
    await this.d.images.setLayerBlobs(image.id, out);
    return out;
  }
}
