// Tar headers: ustar, preceded by a PAX extended header when a value does not fit (long names or link
// targets, sizes of 8 GiB and more, large ids, times before the epoch) or the entry has extended attributes
// (SCHILY.xattr.*, as docker's layer tars carry them; PAX records are bytes, so binary values such as
// security.capability stay intact). Names are bytes: Linux file names need not be UTF-8.

import type { Stats } from 'node:fs';

export type EntryKind = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface EntryHeader {
  /** The entry's name; directories end with '/'. */
  name: Buffer;
  kind: EntryKind;
  /** Permission bits with setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Body bytes (regular files only). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
  xattrs?: Array<[string, Buffer]>;
}

export const BLOCK = 512;
const TYPEFLAG: Record<EntryKind, number> = { file: 0x30, link: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36 };

/** Bytes of padding after a body of `size` bytes. */
export const padLength = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
export const padding = (size: number) => Buffer.alloc(padLength(size));

/** Writes `n` in octal, zero-padded and NUL-terminated, into `width` bytes at `off`; false when it does not fit. */
function octal(buf: Buffer, off: number, width: number, n: number): boolean {
  const s = Math.max(0, Math.floor(n)).toString(8);
  if (s.length > width - 1) return false;
  buf.write(s.padStart(width - 1, '0'), off, 'latin1');
  return true;
}

/** ustar splits a long name at a '/' into prefix (155 bytes) and name (100 bytes). */
function splitName(name: Buffer): { prefix: Buffer; rest: Buffer } | undefined {
  if (name.length <= 100) return { prefix: Buffer.alloc(0), rest: name };
  for (let i = Math.min(name.length - 1, 155); i > 0; i--) {
    if (name[i] === 0x2f && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return { prefix: name.subarray(0, i), rest: name.subarray(i + 1) };
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustar(buf: Buffer, off: number, h: EntryHeader, typeflag: number, size: number): void {
  buf.fill(0, off, off + BLOCK);
  const split = splitName(h.name) ?? { prefix: Buffer.alloc(0), rest: h.name.subarray(0, 100) };
  split.rest.copy(buf, off, 0, 100);
  octal(buf, off + 100, 8, h.mode & 0o7777);
  if (!octal(buf, off + 108, 8, h.uid)) octal(buf, off + 108, 8, 0);
  if (!octal(buf, off + 116, 8, h.gid)) octal(buf, off + 116, 8, 0);
  if (!octal(buf, off + 124, 12, size)) octal(buf, off + 124, 12, 0);
  octal(buf, off + 136, 12, h.mtime);
  buf[off + 156] = typeflag;
  h.linkname?.copy(buf, off + 157, 0, 100);
  buf.write('ustar\x0000', off + 257, 'latin1');
  octal(buf, off + 329, 8, h.devmajor ?? 0);
  octal(buf, off + 337, 8, h.devminor ?? 0);
  split.prefix.copy(buf, off + 345, 0, 155);
  buf.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + BLOCK; i++) sum += buf[i];
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', off + 148, 'latin1');
}

/** The header blocks of an entry: 512 bytes, or a PAX header with its records in front of them. */
export function encodeHeader(h: EntryHeader): Buffer {
  const pax: Buffer[] = [];
  if (!splitName(h.name)) pax.push(paxRecord('path', h.name));
  if (h.linkname && h.linkname.length > 100) pax.push(paxRecord('linkpath', h.linkname));
  if (h.size >= 0o77777777777) pax.push(paxRecord('size', Buffer.from(String(h.size))));
  if (h.uid > 0o7777777) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > 0o7777777) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (h.mtime < 0 || h.mtime > 0o77777777777) pax.push(paxRecord('mtime', Buffer.from(String(Math.trunc(h.mtime)))));
  for (const [k, v] of h.xattrs ?? []) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  if (pax.length === 0) {
    const out = Buffer.allocUnsafe(BLOCK);
    ustar(out, 0, h, TYPEFLAG[h.kind], h.size);
    return out;
  }
  const records = Buffer.concat(pax);
  const out = Buffer.alloc(BLOCK + records.length + padLength(records.length) + BLOCK);
  const base = h.name.subarray(h.name.lastIndexOf(0x2f, h.name.length - 2) + 1).subarray(0, 80);
  ustar(out, 0, { ...h, name: Buffer.concat([Buffer.from('PaxHeaders.0/'), base]), linkname: undefined, mode: 0o644, uid: 0, gid: 0 }, 0x78, records.length);
  records.copy(out, BLOCK);
  ustar(out, out.length - BLOCK, h, TYPEFLAG[h.kind], h.size);
  return out;
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** The tar kind of a file (undefined for sockets). */
export function kindOf(st: Stats): EntryKind | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets: tar has no type for them (docker skips them too)
}
