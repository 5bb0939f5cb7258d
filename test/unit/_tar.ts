// Builds tar archives in memory for tests.
import { extract, pack, type Header } from 'tar-stream';

export type TarItem = Partial<Header> & { name: string; body?: string | Buffer };

export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  // Read while writing: pack's entry callbacks wait for the reader once its buffer is full.
  const reading = (async () => { for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c); })();
  for (const { body, ...h } of items) {
    await new Promise<void>((resolve, reject) => {
      p.entry({ mode: h.type === 'directory' ? 0o755 : 0o644, ...h }, body ?? '', (e) => (e ? reject(e) : resolve()));
    });
  }
  p.finalize();
  await reading;
  return Buffer.concat(chunks);
}

/** Every entry of a tar (a buffer or a stream), with its header and its body as text. */
export async function readTar(input: Buffer | NodeJS.ReadableStream): Promise<Array<Header & { body: string }>> {
  const seen: Array<Header & { body: string }> = [];
  const ex = extract();
  ex.on('entry', (h, s, next) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    s.on('end', () => { seen.push({ ...h, body: Buffer.concat(chunks).toString() }); next(); });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', reject);
    if (Buffer.isBuffer(input)) ex.end(input); else input.pipe(ex);
  });
  return seen;
}
