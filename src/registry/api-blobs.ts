// /v2/<name>/blobs/…: downloads (with ranges), deletion, and uploads — monolithic, chunked, resumed,
// cancelled, or mounted from another repository.
import { pipeline } from 'node:stream/promises';
import type { Ctx, Deps, Route } from './context.js';
import { RegistryError } from './errors.js';
import { drain, send } from './http.js';
import { parseDigest, validName } from './names.js';
import { parseContentRange, parseRange } from './ranges.js';
import { uploadHeaders } from './uploads.js';

const NAME = '(?<name>.+?)';

function digestParam(s: string): string {
  if (!parseDigest(s)) throw new RegistryError('DIGEST_INVALID', 'invalid or unsupported digest', { digest: s });
  return s;
}

/** The chunk's Content-Range, checked against its Content-Length. */
function chunkRange(ctx: Ctx): { start: number; end: number } | undefined {
  const header = ctx.req.headers['content-range'];
  if (header === undefined) return undefined;
  const range = parseContentRange(header);
  if (!range) throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range ${header}`);
  const length = ctx.req.headers['content-length'];
  if (length !== undefined && Number(length) !== range.end - range.start + 1) {
    throw new RegistryError('SIZE_INVALID', `Content-Length ${length} does not match Content-Range ${header}`);
  }
  return range;
}

const blobCreated = (name: string, digest: string) => ({ Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });

export function blobRoutes({ storage, uploads }: Deps): Route[] {
  const get = async ({ req, res, params }: Ctx) => {
    const digest = digestParam(params.digest);
    const size = await storage.repoBlobSize(params.name, digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
    };
    if (req.headers['if-none-match'] === `"${digest}"`) { res.writeHead(304, headers).end(); return; }
    const range = req.headers.range ? parseRange(req.headers.range, size) : undefined;
    if (range === 'unsatisfiable') throw new RegistryError('RANGE_INVALID', `range ${req.headers.range} is outside the blob's ${size} bytes`, undefined, { headers: { 'Content-Range': `bytes */${size}` } });
    const status = range ? 206 : 200;
    res.writeHead(status, { ...headers, 'Content-Length': range ? range.end - range.start + 1 : size, ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : {}) });
    if (req.method === 'HEAD' || size === 0) { res.end(); return; }
    await pipeline(storage.openBlob(digest, range), res);
  };

  return [
    {
      path: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`),
      access: 'repository',
      methods: {
        POST: async ({ req, res, url, params }) => {
          const { name } = params;
          const mount = url.searchParams.get('mount');
          const from = url.searchParams.get('from');
          // a mount the source cannot satisfy becomes an ordinary upload, as the spec allows
          if (mount && from && parseDigest(mount) && validName(from) && await storage.repoBlobSize(from, mount) !== undefined) {
            await drain(req);
            await storage.linkBlob(name, mount);
            send(res, 201, blobCreated(name, mount));
            return;
          }
          const digest = url.searchParams.get('digest');
          if (digest !== null) digestParam(digest);
          const up = await uploads.start(name);
          if (digest === null) {
            await drain(req);
            send(res, 202, uploadHeaders(name, up.id, 0));
            return;
          }
          try {
            await uploads.append(name, up.id, req);
            await uploads.commit(name, up.id, digest);
          } catch (e) {
            await uploads.cancel(name, up.id).catch(() => undefined);
            throw e;
          }
          send(res, 201, blobCreated(name, digest));
        },
      },
    },
    {
      path: new RegExp(`^/v2/${NAME}/blobs/uploads/(?<id>[^/]+)$`),
      access: 'repository',
      methods: {
        GET: async ({ res, params }) => {
          const st = await uploads.state(params.name, params.id);
          send(res, 204, uploadHeaders(params.name, st.id, st.size));
        },
        PATCH: async (ctx) => {
          const { name, id } = ctx.params;
          const st = await uploads.append(name, id, ctx.req, chunkRange(ctx));
          send(ctx.res, 202, uploadHeaders(name, id, st.size));
        },
        PUT: async (ctx) => {
          const { name, id } = ctx.params;
          const digest = ctx.url.searchParams.get('digest');
          if (digest === null) throw new RegistryError('DIGEST_INVALID', 'digest missing: the closing PUT needs ?digest=');
          digestParam(digest);
          await uploads.append(name, id, ctx.req, chunkRange(ctx));
          await uploads.commit(name, id, digest);
          send(ctx.res, 201, blobCreated(name, digest));
        },
        DELETE: async ({ res, params }) => {
          await uploads.cancel(params.name, params.id);
          send(res, 204);
        },
      },
    },
    {
      path: new RegExp(`^/v2/${NAME}/blobs/(?<digest>[^/]+)$`),
      access: 'repository',
      methods: {
        GET: get,
        HEAD: get,
        DELETE: async ({ res, params }) => {
          const digest = digestParam(params.digest);
          if (!await storage.unlinkBlob(params.name, digest)) throw new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
          send(res, 202);
        },
      },
    },
  ];
}
