// Byte ranges: the Content-Range of an upload chunk and the Range of a blob download.

export interface ByteRange { start: number; end: number }

/**
 * Content-Range of a chunk: "<start>-<end>", inclusive, as the distribution spec writes it; the HTTP form
 * "bytes <start>-<end>/<total|*>" is accepted too. Undefined when malformed or backwards.
 */
export function parseContentRange(value: string): ByteRange | undefined {
  const m = /^\s*(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?\s*$/.exec(value);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  return end >= start ? { start, end } : undefined;
}

/**
 * A Range request against `size` bytes. One range only ("bytes=a-b", "bytes=a-", "bytes=-n"); anything else is
 * ignored (undefined: send the whole blob), as HTTP allows. 'unsatisfiable' when it lies outside the blob.
 */
export function parseRange(value: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)-(\d*)\s*$/.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
