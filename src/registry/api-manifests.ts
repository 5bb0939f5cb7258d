// /v2/<name>/manifests/…, tags/list, referrers, and /v2/_catalog.
import { MEDIA } from '../services/registry/manifest.js';
import type { Ctx, Deps, Route } from './context.js';
import { RegistryError } from './errors.js';
import { linkNext, paginate, readBody, send, sendJson } from './http.js';
import { MAX_MANIFEST_BYTES, parseManifest, type Descriptor } from './manifests.js';
import { parseDigest, parseReference, type Reference } from './names.js';
import { digestOf } from './storage.js';

const NAME = '(?<name>.+?)';

function referenceParam(s: string): Reference {
  const r = parseReference(s);
  if ('invalid' in r) {
    throw r.invalid === 'digest'
      ? new RegistryError('DIGEST_INVALID', 'invalid or unsupported digest', { digest: s })
      : new RegistryError('TAG_INVALID', 'manifest tag did not match URI', { tag: s });
  }
  return r;
}

const manifestUnknown = (ref: Reference) => new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown', ref.kind === 'tag' ? { Tag: ref.tag } : { Digest: ref.digest });

export function manifestRoutes({ storage }: Deps): Route[] {
  /** The digest a tag or digest names in this repository. */
  const resolve = async (name: string, ref: Reference): Promise<string | undefined> => {
    if (ref.kind === 'tag') return storage.tag(name, ref.tag);
    return await storage.hasManifest(name, ref.digest) ? ref.digest : undefined;
  };

  const get = async ({ req, res, params }: Ctx) => {
    const ref = referenceParam(params.ref);
    const digest = await resolve(params.name, ref);
    if (!digest) throw manifestUnknown(ref);
    const body = await storage.readBlob(digest);
    const headers = { 'Content-Type': parseManifest(body).mediaType, 'Docker-Content-Digest': digest, ETag: `"${digest}"` };
    if (req.headers['if-none-match'] === `"${digest}"`) { res.writeHead(304, headers).end(); return; }
    if (req.method === 'HEAD') { res.writeHead(200, { ...headers, 'Content-Length': body.length }); res.end(); return; }
    send(res, 200, headers, body);
  };

  const put = async ({ req, res, params }: Ctx) => {
    const { name } = params;
    const ref = referenceParam(params.ref);
    const body = await readBody(req, MAX_MANIFEST_BYTES);
    const m = parseManifest(body, req.headers['content-type']);
    const digest = digestOf(body, ref.kind === 'digest' ? parseDigest(ref.digest)!.algorithm : 'sha256');
    if (ref.kind === 'digest' && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { digest: ref.digest, actual: digest });
    const problems: RegistryError[] = [];
    for (const b of m.blobs) {
      const size = await storage.repoBlobSize(name, b.digest);
      if (size === undefined) problems.push(new RegistryError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: b.digest }));
      else if (size !== b.size) problems.push(new RegistryError('MANIFEST_INVALID', `blob ${b.digest} has ${size} bytes, the manifest says ${b.size}`, { digest: b.digest }));
    }
    for (const c of m.manifests) {
      if (!await storage.hasManifest(name, c.digest)) problems.push(new RegistryError('MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: c.digest }));
    }
    if (problems.length) throw RegistryError.all(problems);
    await storage.putBlob(body, digest);
    await storage.linkManifest(name, digest);
    if (m.subject) await storage.linkReferrer(name, m.subject.digest, digest);
    if (ref.kind === 'tag') await storage.setTag(name, ref.tag, digest);
    send(res, 201, { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest, ...(m.subject ? { 'OCI-Subject': m.subject.digest } : {}) });
  };

  const remove = async ({ res, params }: Ctx) => {
    const { name } = params;
    const ref = referenceParam(params.ref);
    if (ref.kind === 'tag') {
      if (!await storage.deleteTag(name, ref.tag)) throw manifestUnknown(ref);
      send(res, 202);
      return;
    }
    if (!await storage.hasManifest(name, ref.digest)) throw manifestUnknown(ref);
    try {
      const subject = parseManifest(await storage.readBlob(ref.digest)).subject;
      if (subject) await storage.unlinkReferrer(name, subject.digest, ref.digest);
    } catch { /* content already gone: nothing to unindex */ }
    for (const t of await storage.tags(name)) if (t.digest === ref.digest) await storage.deleteTag(name, t.tag);
    await storage.unlinkManifest(name, ref.digest);
    send(res, 202);
  };

  return [
    {
      path: new RegExp(`^/v2/${NAME}/manifests/(?<ref>[^/]+)$`),
      access: 'repository',
      methods: { GET: get, HEAD: get, PUT: put, DELETE: remove },
    },
    {
      path: new RegExp(`^/v2/${NAME}/tags/list$`),
      access: 'repository',
      methods: {
        GET: async ({ res, url, params }) => {
          const { name } = params;
          if (!await storage.exists(name)) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { name });
          const page = paginate((await storage.tags(name)).map((t) => t.tag), url.searchParams.get('n'), url.searchParams.get('last'));
          sendJson(res, 200, { name, tags: page.items }, linkNext(`/v2/${name}/tags/list`, page.next));
        },
      },
    },
    {
      path: new RegExp(`^/v2/${NAME}/referrers/(?<digest>[^/]+)$`),
      access: 'repository',
      methods: {
        GET: async ({ res, url, params }) => {
          const { name, digest } = params;
          if (!parseDigest(digest)) throw new RegistryError('DIGEST_INVALID', 'invalid or unsupported digest', { digest });
          if (!await storage.exists(name)) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { name });
          const wanted = url.searchParams.get('artifactType');
          const manifests: Descriptor[] = [];
          for (const d of await storage.referrers(name, digest)) {
            if (!await storage.hasManifest(name, d)) continue;
            const body = await storage.readBlob(d);
            const m = parseManifest(body);
            if (wanted !== null && m.artifactType !== wanted) continue;
            manifests.push({ mediaType: m.mediaType, digest: d, size: body.length, ...(m.artifactType ? { artifactType: m.artifactType } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) });
          }
          const headers: Record<string, string> = { 'Content-Type': MEDIA.ociIndex, ...(wanted !== null ? { 'OCI-Filters-Applied': 'artifactType' } : {}) };
          send(res, 200, headers, `${JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests })}\n`);
        },
      },
    },
    {
      path: /^\/v2\/_catalog$/,
      access: 'catalog',
      methods: {
        GET: async ({ res, url }) => {
          const page = paginate(await storage.repositories(), url.searchParams.get('n'), url.searchParams.get('last'));
          sendJson(res, 200, { repositories: page.items }, linkNext('/v2/_catalog', page.next));
        },
      },
    },
  ];
}
