// Extended attributes of tar entries as raw bytes. tar-stream decodes PAX values as UTF-8, which mangles binary
// ones such as security.capability; this reads the same bytes on their way to tar-stream (a pass-through that
// parses block headers only) and queues each entry's SCHILY.xattr.* records in entry order, so the consumer of
// entry N finds its attributes already queued (header N passes through here before tar-stream sees it).
import { Transform } from 'node:stream';
import { BLOCK } from './header.js';

export type Xattrs = Array<[string, Buffer]>;

/** tar's numeric field: octal text, or base-256 when the high bit of the first byte is set. */
function numeric(b: Buffer): number {
  if (b[0] & 0x80) {
    let n = b[0] & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return n;
  }
  const s = b.toString('latin1').replace(/[\0 ]+$/g, '').trim();
  return s ? parseInt(s, 8) : 0;
}

/** PAX records ("<len> key=value\n"), values kept as bytes. */
function paxRecords(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    if (sp < 0) break;
    const len = parseInt(body.toString('latin1', at, sp), 10);
    if (!len || at + len > body.length) break;
    const rec = body.subarray(sp + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    at += len;
  }
  return out;
}

export class PaxXattrScanner extends Transform {
  /** Attributes of the entries seen so far and not yet taken, in order (empty arrays for entries without). */
  private readonly queue: Xattrs[] = [];
  private buf = Buffer.alloc(0);
  /** Body bytes still to skip, and whether they are a PAX header's (kept) or an entry's. */
  private skip = 0;
  private paxBody?: { need: number; chunks: Buffer[]; size: number };
  private pending: Map<string, Buffer> | undefined;

  /** The next entry's attributes. */
  nextEntry(): Xattrs { return this.queue.shift() ?? []; }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    try { this.scan(chunk); } catch { /* a malformed archive is tar-stream's to report */ }
    cb(null, chunk);
  }

  private scan(chunk: Buffer): void {
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = Buffer.alloc(0);
    while (data.length) {
      if (this.paxBody) {
        const n = Math.min(this.paxBody.need, data.length);
        this.paxBody.chunks.push(data.subarray(0, n));
        this.paxBody.need -= n;
        data = data.subarray(n);
        if (this.paxBody.need === 0) {
          const body = Buffer.concat(this.paxBody.chunks).subarray(0, this.paxBody.size);
          this.pending = new Map([...(this.pending ?? []), ...paxRecords(body)]);
          this.paxBody = undefined;
        }
        continue;
      }
      if (this.skip) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        continue;
      }
      if (data.length < BLOCK) { this.buf = Buffer.from(data); return; }
      const h = data.subarray(0, BLOCK);
      data = data.subarray(BLOCK);
      if (h.every((b) => b === 0)) continue;
      const type = String.fromCharCode(h[156] || 0x30);
      const paxSize = this.pending?.get('size');
      const size = type === 'x' || type === 'g' || type === 'L' || type === 'K' ? numeric(h.subarray(124, 136)) : paxSize ? Number(paxSize.toString()) : numeric(h.subarray(124, 136));
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x') { this.paxBody = { need: padded, chunks: [], size }; continue; }
      if (type === 'g' || type === 'L' || type === 'K') { this.skip = padded; continue; }
      const xattrs: Xattrs = [];
      for (const [k, v] of this.pending ?? []) if (k.startsWith('SCHILY.xattr.')) xattrs.push([k.slice('SCHILY.xattr.'.length), v]);
      this.queue.push(xattrs);
      this.pending = undefined;
      // links and directories carry no body whatever their size field says
      this.skip = type === '1' || type === '2' || type === '5' ? 0 : padded;
    }
  }
}
