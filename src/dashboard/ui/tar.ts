// A tar archive (ustar) of a few small files, made in the browser: the build context the page sends to /build.

const BLOCK = 512;

function field(h: Uint8Array, at: number, len: number, text: string): void {
  h.set(new TextEncoder().encode(text).subarray(0, len), at);
}

const octal = (n: number, digits: number) => `${n.toString(8).padStart(digits, '0')}\0`;

export function tarOf(files: Array<{ name: string; data: Uint8Array; mode?: number }>, mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const size = files.reduce((n, f) => n + BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let at = 0;
  for (const f of files) {
    if (new TextEncoder().encode(f.name).length > 100) throw new Error(`name too long for the build context: ${f.name}`);
    const h = out.subarray(at, at + BLOCK);
    field(h, 0, 100, f.name);
    field(h, 100, 8, octal(f.mode ?? 0o644, 7));
    field(h, 108, 8, octal(0, 7));
    field(h, 116, 8, octal(0, 7));
    field(h, 124, 12, octal(f.data.length, 11));
    field(h, 136, 12, octal(mtime, 11));
    field(h, 148, 8, '        ');
    field(h, 156, 1, '0');
    field(h, 257, 8, 'ustar\u000000');
    const sum = h.reduce((n, b) => n + b, 0);
    field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    out.set(f.data, at + BLOCK);
    at += BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK;
  }
  return out;
}
