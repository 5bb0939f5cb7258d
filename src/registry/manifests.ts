// Manifests as the registry accepts them: OCI image manifests and indexes, docker schema 2 manifests and
// manifest lists. A manifest is kept byte for byte; this reads what it refers to (blobs, child manifests, a
// subject) and what the referrers API shows of it.
import { MEDIA } from '../services/registry/manifest.js';
import { RegistryError } from './errors.js';
import { parseDigest } from './names.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ManifestInfo {
  mediaType: string;
  kind: 'image' | 'index';
  /** Blobs that must be in the repository: config and layers, less foreign layers fetched from their URLs. */
  blobs: Descriptor[];
  /** Child manifests of an index, which must be in the repository. */
  manifests: Descriptor[];
  config?: Descriptor;
  subject?: Descriptor;
  /** What the referrers API reports: the artifactType, else the config's media type. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const IMAGE_TYPES: string[] = [MEDIA.ociManifest, MEDIA.dockerManifest];
const INDEX_TYPES: string[] = [MEDIA.ociIndex, MEDIA.dockerList];
/** Layers a manifest may name without the registry holding them: they carry URLs to fetch them from. */
const FOREIGN = /^application\/vnd\.(?:docker\.image\.rootfs\.foreign\.diff\.tar\.gzip|oci\.image\.layer\.nondistributable\.v1\.tar(?:\+gzip|\+zstd)?)$/;

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const invalid = (message: string, detail?: unknown) => new RegistryError('MANIFEST_INVALID', message, detail);

function descriptor(v: unknown, what: string): Descriptor {
  const d = v as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw invalid(`manifest invalid: ${what} is not a descriptor`);
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(`manifest invalid: ${what} has no mediaType`);
  if (typeof d.digest !== 'string' || !parseDigest(d.digest)) throw invalid(`manifest invalid: ${what} has an invalid digest`, { digest: d.digest });
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`manifest invalid: ${what} has an invalid size`);
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) throw invalid(`manifest invalid: ${what} has invalid urls`);
  if (d.annotations !== undefined && !stringMap(d.annotations)) throw invalid(`manifest invalid: ${what} has invalid annotations`);
  return d as Descriptor;
}

function stringMap(v: unknown): v is Record<string, string> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** The media type a manifest is, from its own field, else the Content-Type it was sent with, else its shape. */
function mediaTypeOf(doc: Record<string, unknown>, contentType: string | undefined): string {
  const sent = contentType?.split(';')[0].trim();
  const known = (t: string | undefined) => !!t && (IMAGE_TYPES.includes(t) || INDEX_TYPES.includes(t));
  if (typeof doc.mediaType === 'string') {
    if (known(sent) && sent !== doc.mediaType) throw invalid(`manifest invalid: mediaType ${doc.mediaType} does not match Content-Type ${sent}`);
    return doc.mediaType;
  }
  if (doc.mediaType !== undefined) throw invalid('manifest invalid: mediaType is not a string');
  if (known(sent)) return sent!;
  return Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
}

/** Parse and check a manifest; MANIFEST_INVALID says what is wrong. */
export function parseManifest(body: Buffer, contentType?: string): ManifestInfo {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('manifest invalid: not JSON');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('manifest invalid: not a JSON object');
  if (doc.schemaVersion !== 2) throw invalid(`manifest invalid: schemaVersion ${JSON.stringify(doc.schemaVersion)} is not supported, only 2 is`);
  const mediaType = mediaTypeOf(doc, contentType);
  if (doc.annotations !== undefined && !stringMap(doc.annotations)) throw invalid('manifest invalid: annotations must map strings to strings');
  if (doc.artifactType !== undefined && typeof doc.artifactType !== 'string') throw invalid('manifest invalid: artifactType is not a string');
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject');
  const common = { mediaType, subject, annotations: doc.annotations as Record<string, string> | undefined };

  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid(`manifest invalid: ${mediaType} needs a manifests list`);
    if ('config' in doc || 'layers' in doc) throw invalid(`manifest invalid: ${mediaType} has no config or layers`);
    const manifests = doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`));
    return { ...common, kind: 'index', blobs: [], manifests, artifactType: doc.artifactType as string | undefined };
  }
  if (IMAGE_TYPES.includes(mediaType)) {
    if (!Array.isArray(doc.layers)) throw invalid(`manifest invalid: ${mediaType} needs a layers list`);
    if ('manifests' in doc) throw invalid(`manifest invalid: ${mediaType} has no manifests list`);
    const config = descriptor(doc.config, 'config');
    const layers = doc.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    const blobs = [config, ...layers.filter((l) => !(FOREIGN.test(l.mediaType) && l.urls?.length))];
    return { ...common, kind: 'image', blobs, manifests: [], config, artifactType: (doc.artifactType as string | undefined) ?? config.mediaType };
  }
  throw invalid(`manifest invalid: media type ${mediaType} is not supported`, { mediaType });
}
