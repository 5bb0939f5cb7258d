// Builds tar archives in memory for tests.
import { pack, type Header } from 'tar-stream';

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
