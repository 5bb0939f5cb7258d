// Manifests of the distribution/OCI specs: media types, strict parsing (a document must be what its
// media type says), and platform choice in an index or manifest list.
import { badRequest } from '../../util/errors.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export const ACCEPT_MANIFESTS = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

export interface Descriptor { mediaType: string; digest: string; size: number; platform?: Platform; urls?: string[]; annotations?: Record<string, string> }
export interface Platform { os: string; architecture: string; variant?: string }
export interface ImageManifest { schemaVersion: 2; mediaType: string; config: Descriptor; layers: Descriptor[] }
export interface IndexManifest { schemaVersion: 2; mediaType: string; manifests: Descriptor[] }

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function descriptor(d: unknown, what: string): Descriptor {
  const x = d as Partial<Descriptor> | null;
  if (!x || typeof x !== 'object' || typeof x.mediaType !== 'string' || typeof x.digest !== 'string' || typeof x.size !== 'number') throw badRequest(`invalid manifest: bad ${what} descriptor`);
  if (!DIGEST.test(x.digest)) throw badRequest(`invalid manifest: unsupported digest ${x.digest}`);
  if (!Number.isSafeInteger(x.size) || x.size < 0) throw badRequest(`invalid manifest: bad size in ${what} descriptor`);
  return x as Descriptor;
}

export function isIndexType(t: string): boolean { return t === MEDIA.ociIndex || t === MEDIA.dockerList; }
export function isManifestType(t: string): boolean { return t === MEDIA.ociManifest || t === MEDIA.dockerManifest; }

/**
 * Parse a manifest body served with `contentType`. The body's own mediaType (when present) must agree, an
 * image manifest must have a config and layers and no `manifests`, and an index the reverse.
 */
export function parseManifest(body: Buffer, contentType: string): { kind: 'index'; doc: IndexManifest; mediaType: string } | { kind: 'image'; doc: ImageManifest; mediaType: string } {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw badRequest('invalid manifest: not JSON');
  }
  if (!doc || typeof doc !== 'object') throw badRequest('invalid manifest: not an object');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const served = contentType.split(';')[0].trim();
  let mediaType = declared ?? served;
  if (declared && served && served !== 'application/json' && served !== 'text/plain' && declared !== served) {
    throw badRequest(`invalid manifest: served as ${served} but declares ${declared}`);
  }
  if (!declared && !isIndexType(mediaType) && !isManifestType(mediaType)) mediaType = Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
  if (doc.schemaVersion !== 2) throw badRequest(`unsupported manifest schema version ${String(doc.schemaVersion)}: only schema 2 is supported`);
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests) || 'layers' in doc || 'config' in doc) throw badRequest(`invalid manifest: ${mediaType} must list manifests and nothing else`);
    return { kind: 'index', mediaType, doc: { schemaVersion: 2, mediaType, manifests: doc.manifests.map((m) => descriptor(m, 'manifest')) } };
  }
  if (isManifestType(mediaType)) {
    if (!Array.isArray(doc.layers) || !doc.config || 'manifests' in doc) throw badRequest(`invalid manifest: ${mediaType} must have a config and layers`);
    return { kind: 'image', mediaType, doc: { schemaVersion: 2, mediaType, config: descriptor(doc.config, 'config'), layers: doc.layers.map((l) => descriptor(l, 'layer')) } };
  }
  throw badRequest(`unsupported manifest media type ${mediaType}`);
}

/** "linux/amd64[/v8]" → platform; default linux/amd64. */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return { os: 'linux', architecture: 'amd64' };
  const [os, architecture = 'amd64', variant] = s.toLowerCase().split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}

export const platformString = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** The entry of an index for the platform (variant matched when asked); attestation manifests are skipped. */
export function pickPlatform(index: IndexManifest, want: Platform): Descriptor | undefined {
  const candidates = index.manifests.filter((m) => isManifestType(m.mediaType) && m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
  const match = (m: Descriptor) => m.platform?.os === want.os && m.platform?.architecture === want.architecture && (!want.variant || m.platform?.variant === want.variant);
  return candidates.find(match);
}

/** Compression of a layer from its media type. */
export function layerCompression(mediaType: string): 'gzip' | 'zstd' | 'none' | undefined {
  if (mediaType === MEDIA.dockerLayer || mediaType === MEDIA.ociLayerGzip || mediaType === MEDIA.dockerForeignLayer) return 'gzip';
  if (mediaType === MEDIA.ociLayerZstd) return 'zstd';
  if (mediaType === MEDIA.ociLayer) return 'none';
  return undefined;
}
