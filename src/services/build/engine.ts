// What the builder needs from the engine: images, step containers on the engine's own runtime and snapshots,
// their files, and commits. The builder sees only this interface; `LocalBuildEngine` wires it to the services.
import type { Readable } from 'node:stream';
import type { Image, ImageConfigDoc, ImageRunConfig } from '../images/types.js';
import type { ContentStore } from '../content/types.js';
import type { SnapshotStore } from '../snapshots/types.js';
import { layerWriterDeps, writeLayer } from '../snapshots/layer-writer.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from '../containers/types.js';
import type { InRoot } from '../../sys/inroot.js';
import type { Credentials } from '../registry/auth.js';
import type { ProgressMessage } from '../images/pull.js';
import { buildRecord } from '../containers/create.js';
import { withContainerFs, type RootfsLease } from '../archive/container-fs.js';
import { readExisting, LogFollower } from '../logs/k8sfile.js';
import { randomName } from '../../util/ids.js';
import { ApiError, errorMessage } from '../../util/errors.js';
import type { EventBus } from '../events/bus.js';
import type { MountPoint } from '../containers/types.js';
import type { EndpointConfig } from '../network/types.js';

export interface BuildEngine {
  image(ref: string): Image | undefined;
  pull(ref: string, o: { platform?: string; creds?: Credentials; progress: (m: ProgressMessage) => void }): Promise<Image>;
  /** A new image from a config document on top of `parent`'s layers (metadata-only steps, scratch). */
  addImage(doc: ImageConfigDoc, parent?: string): Promise<Image>;
  tag(imageId: string, ref: string): Promise<void>;
  /** A step container (created, not started); `files` ones only have files copied in or out: no volumes. */
  createContainer(image: Image, config: ContainerConfig, host: HostConfig, o?: { files?: boolean }): Promise<ContainerRecord>;
  /** Starts it and streams its output; resolves with its exit code. */
  run(rec: ContainerRecord, output: (data: Buffer) => void): Promise<number>;
  /** Runs `fn` on the container's files (its rootfs mounted meanwhile). */
  withFiles<T>(rec: ContainerRecord, fn: (root: InRoot) => Promise<T>): Promise<T>;
  /** A new image: `parent` (none: scratch) plus one layer made of `tar`, with `config` and one history entry. */
  layerImage(parent: Image | undefined, tar: Readable, config: ImageRunConfig, createdBy: string): Promise<Image>;
  /** Its changes as a new image with exactly `config` and one history entry; no layer when nothing changed. */
  commit(rec: ContainerRecord, config: ImageRunConfig, createdBy: string): Promise<Image>;
  removeContainer(rec: ContainerRecord): Promise<void>;
}

export interface LocalBuildEngineDeps {
  images: {
    list(): Image[];
    resolve(ref: string): Image | undefined;
    addImage(configBytes: Buffer, opts: { parent?: string }): Promise<Image>;
    tag(ref: string, target: string): Promise<void>;
  };
  pull(ref: string, o: { platform?: string; creds?: Credentials; progress: (m: ProgressMessage) => void }): Promise<Image>;
  store: { add(rec: ContainerRecord): Promise<void>; dir(id: string): string; find(ref: string): ContainerRecord | undefined; reserveName(name: string, id: string): void; releaseName(name: string): void };
  supervisor: RootfsLease & {
    start(rec: ContainerRecord): Promise<void>;
    remove(rec: ContainerRecord, o: { force: boolean; volumes: boolean }): Promise<void>;
    waitFor(id: string, action: string): Promise<void>;
    attrs(rec: ContainerRecord): Record<string, string>;
  };
  networks: { resolveForCreate(mode: string, endpoints: undefined): Record<string, EndpointConfig> | undefined };
  mounts: { plan(hc: HostConfig, volumes: Record<string, object> | null | undefined): Promise<MountPoint[]> };
  committer: { commit(rec: ContainerRecord, o: { pause: boolean; config: ContainerConfig; exactConfig: true; createdBy: string }): Promise<Image> };
  events: EventBus;
  content: ContentStore;
  snapshots: SnapshotStore;
  runtimes: string[];
  defaultRuntime: string;
}

export class LocalBuildEngine implements BuildEngine {
  constructor(private readonly d: LocalBuildEngineDeps) {}

  image(ref: string): Image | undefined { return this.d.images.resolve(ref); }

  pull(ref: string, o: { platform?: string; creds?: Credentials; progress: (m: ProgressMessage) => void }): Promise<Image> { return this.d.pull(ref, o); }

  addImage(doc: ImageConfigDoc, parent?: string): Promise<Image> {
    return this.d.images.addImage(Buffer.from(JSON.stringify(doc)), { parent });
  }

  async tag(imageId: string, ref: string): Promise<void> {
    await this.d.images.tag(imageId, ref);
    this.d.events.publish('image', 'tag', imageId, { name: ref });
  }

  async createContainer(image: Image, config: ContainerConfig, host: HostConfig, o: { files?: boolean } = {}): Promise<ContainerRecord> {
    const name = randomName();
    const rec = buildRecord({ ...config, Image: image.id, HostConfig: host }, image, name, image.id, this.d.runtimes, this.d.defaultRuntime, (id) => `${this.d.store.dir(id)}/container.log`);
    rec.Networks = this.d.networks.resolveForCreate(host.NetworkMode || 'default', undefined);
    // COPY writes into the image's own files, also under a VOLUME path (those only catch what RUN writes)
    rec.Mounts = o.files ? [] : await this.d.mounts.plan(rec.HostConfig, rec.Config.Volumes);
    this.d.store.reserveName(rec.Name, rec.Id);
    try {
      await this.d.store.add(rec);
    } catch (e) {
      this.d.store.releaseName(rec.Name);
      throw e;
    }
    this.d.events.publish('container', 'create', rec.Id, this.d.supervisor.attrs(rec));
    return rec;
  }

  async run(rec: ContainerRecord, output: (data: Buffer) => void): Promise<number> {
    const opts = { stdout: true, stderr: true, since: 0, until: 0, tail: -1 };
    const { position } = await readExisting(rec.LogPath, opts);
    const died = this.d.supervisor.waitFor(rec.Id, 'die');
    let follower: LogFollower | undefined;
    const drained = new Promise<void>((resolve) => {
      follower = new LogFollower(rec.LogPath, position, opts, (e) => { output(e.data); }, resolve);
    });
    follower!.start();
    try {
      await this.d.supervisor.start(rec);
    } catch (e) {
      follower!.stop();
      throw e instanceof ApiError ? e : new ApiError(500, errorMessage(e));
    }
    await died;
    follower!.finish();
    await drained;
    return this.d.store.find(rec.Id)?.State.ExitCode ?? rec.State.ExitCode;
  }

  withFiles<T>(rec: ContainerRecord, fn: (root: InRoot) => Promise<T>): Promise<T> {
    return withContainerFs(rec, this.d.store.dir(rec.Id), this.d.supervisor, fn);
  }

  async layerImage(parent: Image | undefined, tar: Readable, config: ImageRunConfig, createdBy: string): Promise<Image> {
    const deps = layerWriterDeps({ content: this.d.content, snapshots: this.d.snapshots, images: this.d.images });
    const layer = await writeLayer(deps, parent?.chainIds.at(-1), tar, 'build step');
    const base: ImageConfigDoc & { container?: unknown; container_config?: unknown } = structuredClone(parent?.config ?? { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } });
    delete base.container;
    delete base.container_config;
    const created = new Date().toISOString();
    const doc: ImageConfigDoc = {
      ...base, created, config,
      rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, layer.diffId] },
      history: [...(base.history ?? []), { created, created_by: createdBy }],
    };
    try {
      return await this.addImage(doc, parent?.id);
    } catch (e) {
      await deps.dropBlob(layer.diffId);
      await deps.dropSnapshot(layer.chainId);
      throw e;
    }
  }

  commit(rec: ContainerRecord, config: ImageRunConfig, createdBy: string): Promise<Image> {
    return this.d.committer.commit(rec, { pause: false, config: config as ContainerConfig, exactConfig: true, createdBy });
  }

  async removeContainer(rec: ContainerRecord): Promise<void> {
    const cur = this.d.store.find(rec.Id);
    if (cur) await this.d.supervisor.remove(cur, { force: true, volumes: true });
  }
}
