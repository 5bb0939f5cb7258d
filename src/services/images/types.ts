import type { Readable } from 'node:stream';

/** The runtime part of an OCI/docker image config (docker's capitalised names). */
export interface ImageRunConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number };
  OnBuild?: string[] | null;
  Shell?: string[] | null;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config JSON document, stored as a blob; its sha256 is the image ID. */
export interface ImageConfigDoc {
  architecture: string;
  os: string;
  created?: string;
  author?: string;
  comment?: string;
  config: ImageRunConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export interface Image {
  /** "sha256:<hex>" of the config blob. */
  id: string;
  config: ImageConfigDoc;
  repoTags: string[];
  repoDigests: string[];
  /** Chain IDs of the layers, bottom first. */
  chainIds: string[];
  /** Sum of the layers' unpacked sizes. */
  size: number;
  /** Unpacked size of each layer, bottom first (for history). */
  layerSizes?: number[];
  parent?: string;
  /** When the image landed in this store (ISO). */
  loaded: string;
  /** Compressed registry blobs of the layers, bottom first, for images that came from a registry. */
  layers?: LayerBlob[];
}

export interface LayerBlob { mediaType: string; digest: string; size: number }

export interface ImportOptions {
  /** "repo[:tag]" to tag the new image with, if any. */
  reference?: string;
  /** Dockerfile instructions applied to the config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL. */
  changes?: string[];
  message?: string;
  platform?: string;
}

export interface RemoveResult { Untagged?: string; Deleted?: string }

export interface ImageService {
  list(): Image[];
  /** By "name[:tag]", "name@digest", full or short ID (with or without "sha256:"). */
  resolve(ref: string): Image | undefined;
  /** `docker import`: one layer from a (possibly gzip/xz/bzip2-compressed) rootfs tar. */
  importTar(input: Readable, opts: ImportOptions): Promise<Image>;
  tag(ref: string, target: string): Promise<void>;
  /** `inUse(imageId)` tells whether a container uses the image (refuse without force). */
  remove(ref: string, opts: { force: boolean; noprune: boolean }, inUse: (imageId: string) => string | undefined): Promise<RemoveResult[]>;
  /** Overlay lowerdirs for a container on this image, top layer first (overlayfs order). */
  lowerDirs(image: Image): string[];
}
