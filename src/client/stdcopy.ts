// The multiplexed stream format: frames with an 8-byte header [stream, 0, 0, 0, uint32 BE length].
// Stream 0 stdin, 1 stdout, 2 stderr, 3 systemerr (a daemon-side error message).
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

export type FrameHandler = (stream: number, payload: Buffer) => void;

/** Incremental demultiplexer: feed it chunks as they arrive; it calls back once per complete frame. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: FrameHandler) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    while (this.buf.length - off >= 8) {
      const stream = this.buf[off];
      const len = this.buf.readUInt32BE(off + 4);
      if (this.buf.length - off - 8 < len) break;
      const payload = this.buf.subarray(off + 8, off + 8 + len);
      off += 8 + len;
      if (len > 0) this.onFrame(stream, payload);
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(off));
  }

  /** Bytes of an incomplete frame still waiting for more data. */
  get pending(): number {
    return this.buf.length;
  }
}

/** Encode one frame (used by tests and by anything that needs to produce the format). */
export function frame(stream: number, payload: Buffer | string): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

/** Read a whole multiplexed readable, writing payloads to the given sinks. Resolves at end of stream. */
export function demuxStream(
  src: NodeJS.ReadableStream,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let sysErr = '';
    const d = new Demuxer((s, p) => {
      if (s === STDERR) err.write(p);
      else if (s === SYSTEMERR) sysErr += p.toString();
      else out.write(p);
    });
    src.on('data', (c: Buffer) => d.push(c));
    src.on('end', () => (sysErr ? reject(new Error(sysErr.trim())) : resolve()));
    src.on('close', () => resolve());
    src.on('error', reject);
  });
}
