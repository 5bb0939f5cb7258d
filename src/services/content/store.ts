// Blobs live at <root>/blobs/sha256/<hex>. Writes go to <root>/ingest/ first and are renamed into place
// only after the digest (and size) check passes, so a reader never sees a partial or wrong blob.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { badRequest, notFound } from '../../util/errors.js';
import type { ContentStore } from './types.js';

const DIGEST_RE = /^sha256:([a-f0-9]{64})$/;
const WRITE_BATCH = 1 << 20;

async function writeAll(fh: fs.FileHandle, chunks: Buffer[]): Promise<void> {
  const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off)).bytesWritten;
}

/** The hex part of a "sha256:<hex>" digest; anything else is rejected so it can never form a path. */
export function digestHex(digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw badRequest(`invalid digest: ${digest}`);
  return m[1];
}

export class DigestMismatchError extends Error {}

export class FileContentStore implements ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
    mkdirSync(this.blobDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  async ingest(input: Readable, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }> {
    if (expected?.digest !== undefined) digestHex(expected.digest);
    const tmp = join(this.ingestDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const fh = await fs.open(tmp, 'wx', 0o600);
    let committed = false;
    try {
      try {
        // written a MiB at a time: one thread-pool round trip per network chunk costs more than the write
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        for await (const chunk of input) {
          const buf = chunk as Buffer;
          size += buf.length;
          // Stop early on an oversized stream instead of filling the disk.
          if (expected?.size !== undefined && size > expected.size) {
            throw new DigestMismatchError(`size mismatch: got more than the expected ${expected.size} bytes`);
          }
          hash.update(buf);
          pending.push(buf);
          pendingBytes += buf.length;
          if (pendingBytes >= WRITE_BATCH) {
            await writeAll(fh, pending);
            pending = [];
            pendingBytes = 0;
          }
        }
        if (pending.length) await writeAll(fh, pending);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected?.size !== undefined && size !== expected.size) {
        throw new DigestMismatchError(`size mismatch: expected ${expected.size} bytes, got ${size}`);
      }
      if (expected?.digest !== undefined && expected.digest !== digest) {
        throw new DigestMismatchError(`digest mismatch: expected ${expected.digest}, got ${digest}`);
      }
      // rename() replaces an existing identical blob atomically, which is harmless.
      await fs.rename(tmp, this.path(digest));
      committed = true;
      await syncDir(this.blobDir);
      return { digest, size };
    } finally {
      if (!committed) await fs.rm(tmp, { force: true });
      if (!committed && !input.destroyed) input.destroy();
    }
  }

  async put(data: Buffer, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }> {
    return this.ingest(Readable.from([data]), expected);
  }

  has(digest: string): boolean {
    return DIGEST_RE.test(digest) && existsSync(this.path(digest));
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob not found: ${digest}`);
      throw e;
    }
  }

  open(digest: string): Readable {
    return createReadStream(this.path(digest));
  }

  path(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  async delete(digest: string): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }

  /** Remove ingest leftovers from a crash (call at startup, before any ingest runs). */
  async cleanIngest(): Promise<void> {
    for (const n of await fs.readdir(this.ingestDir)) await fs.rm(join(this.ingestDir, n), { force: true, recursive: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}
