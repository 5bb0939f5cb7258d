// Blob upload sessions. Bytes go to <repo>/_uploads/<id>/data as they arrive, so an upload survives a broken
// connection or a restart and its size is always what the server has; the blob enters the store only once the
// whole content matches the digest the client names.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.js';
import { parseDigest } from './names.js';
import type { ByteRange } from './ranges.js';
import type { RegistryStorage } from './storage.js';

export interface UploadState { id: string; size: number }

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class Uploads {
  /** sha256 of each upload's bytes so far, kept while the server runs so a commit need not read them again. */
  private readonly hashes = new Map<string, { hash: Hash; size: number }>();
  /** One request at a time per upload: chunks are appended in order. */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly storage: RegistryStorage) {}

  private dir(name: string, id: string): string {
    return join(this.storage.repoDir(name), '_uploads', id);
  }

  private unknown(id: string): RegistryError {
    return new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { id });
  }

  private exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.busy.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.busy.set(id, settled);
    void settled.then(() => { if (this.busy.get(id) === settled) this.busy.delete(id); });
    return run;
  }

  async start(name: string): Promise<UploadState> {
    const id = randomUUID();
    const dir = this.dir(name, id);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(join(dir, 'data'), '');
    this.hashes.set(id, { hash: createHash('sha256'), size: 0 });
    return { id, size: 0 };
  }

  async state(name: string, id: string): Promise<UploadState> {
    if (!ID.test(id)) throw this.unknown(id);
    try {
      return { id, size: (await fs.stat(join(this.dir(name, id), 'data'))).size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw this.unknown(id);
      throw e;
    }
  }

  /**
   * Append a request body. A Content-Range must start where the upload ends (416 otherwise) and the body must
   * be as long as it says; a body cut short by the client is kept, so the client can resume after it.
   */
  append(name: string, id: string, body: Readable, range?: ByteRange): Promise<UploadState> {
    return this.exclusive(id, async () => {
      const { size } = await this.state(name, id);
      if (range && range.start !== size) {
        throw new RegistryError('RANGE_INVALID', `chunk starts at ${range.start} but the upload has ${size} bytes`, { size }, { headers: uploadHeaders(name, id, size) });
      }
      let tracked = this.hashes.get(id);
      if (tracked && tracked.size !== size) { this.hashes.delete(id); tracked = undefined; }
      const file = join(this.dir(name, id), 'data');
      const fh = await fs.open(file, 'a');
      let written = 0;
      try {
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          try {
            await fh.write(buf);
          } catch (e) {
            this.hashes.delete(id);
            throw e;
          }
          tracked?.hash.update(buf);
          if (tracked) tracked.size += buf.length;
          written += buf.length;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (range && written !== range.end - range.start + 1) {
        await fs.truncate(file, size);
        this.hashes.delete(id);
        throw new RegistryError('SIZE_INVALID', `Content-Range announced ${range.end - range.start + 1} bytes, the body had ${written}`);
      }
      return { id, size: size + written };
    });
  }

  /** Finish an upload: the content must match `digest` (DIGEST_INVALID otherwise, and the upload is dropped). */
  commit(name: string, id: string, digest: string): Promise<{ digest: string; size: number }> {
    return this.exclusive(id, async () => {
      const { size } = await this.state(name, id);
      const d = parseDigest(digest);
      if (!d) throw new RegistryError('DIGEST_INVALID', 'invalid or unsupported digest', { digest });
      const file = join(this.dir(name, id), 'data');
      const tracked = this.hashes.get(id);
      const actual = d.algorithm === 'sha256' && tracked?.size === size ? tracked.hash.copy().digest('hex') : await hashFile(file, d.algorithm);
      if (actual !== d.hex) {
        await this.drop(name, id);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { digest, actual: `${d.algorithm}:${actual}` });
      }
      await this.storage.adoptBlob(file, digest);
      await this.storage.linkBlob(name, digest);
      await this.drop(name, id);
      return { digest, size };
    });
  }

  cancel(name: string, id: string): Promise<void> {
    return this.exclusive(id, async () => {
      await this.state(name, id);
      await this.drop(name, id);
    });
  }

  private async drop(name: string, id: string): Promise<void> {
    this.hashes.delete(id);
    await fs.rm(this.dir(name, id), { recursive: true, force: true });
  }
}

async function hashFile(file: string, algorithm: string): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Where an upload is and how far it got: Range is inclusive, "0-0" for an empty upload as docker's registry says. */
export function uploadHeaders(name: string, id: string, size: number): Record<string, string> {
  return {
    Location: `/v2/${name}/blobs/uploads/${id}`,
    'Docker-Upload-UUID': id,
    Range: `0-${Math.max(0, size - 1)}`,
  };
}
