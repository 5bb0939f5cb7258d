import type { Readable } from 'node:stream';

/** Content-addressed blob store (sha256). Writers ingest, then commit against an expected digest/size. */
export interface ContentStore {
  /** Stream a blob in; resolves with its digest ("sha256:…") and size. Rejects (leaving nothing) on mismatch. */
  ingest(input: Readable, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }>;
  put(data: Buffer, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }>;
  has(digest: string): boolean;
  read(digest: string): Promise<Buffer>;
  open(digest: string): Readable;
  path(digest: string): string;
  delete(digest: string): Promise<void>;
}
