// docker's X-Docker-Container-Path-Stat: base64 of {name,size,mode,mtime,linkTarget}, where mode is a Go
// os.FileMode (type bits high, permission bits low), and mtime RFC 3339 with nanoseconds.
import { constants, type BigIntStats, type Stats } from 'node:fs';

export const MODE_DIR = 2 ** 31;
export const MODE_SYMLINK = 2 ** 27;
export const MODE_DEVICE = 2 ** 26;
export const MODE_NAMED_PIPE = 2 ** 25;
export const MODE_SOCKET = 2 ** 24;
export const MODE_SETUID = 2 ** 23;
export const MODE_SETGID = 2 ** 22;
export const MODE_CHAR_DEVICE = 2 ** 21;
export const MODE_STICKY = 2 ** 20;
export const MODE_IRREGULAR = 2 ** 19;

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export const STAT_HEADER = 'X-Docker-Container-Path-Stat';

/** Go's os.FileMode of a stat(2) mode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR: m += MODE_DIR; break;
    case constants.S_IFLNK: m += MODE_SYMLINK; break;
    case constants.S_IFBLK: m += MODE_DEVICE; break;
    case constants.S_IFCHR: m += MODE_DEVICE + MODE_CHAR_DEVICE; break;
    case constants.S_IFIFO: m += MODE_NAMED_PIPE; break;
    case constants.S_IFSOCK: m += MODE_SOCKET; break;
  }
  if (mode & 0o4000) m += MODE_SETUID;
  if (mode & 0o2000) m += MODE_SETGID;
  if (mode & 0o1000) m += MODE_STICKY;
  return m;
}

// JS bit operators work on 32-bit signed integers: the type bits are tested by division instead
const has = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
export const isDirMode = (mode: number) => has(mode, MODE_DIR);
export const isSymlinkMode = (mode: number) => has(mode, MODE_SYMLINK);
export const isDeviceMode = (mode: number) => has(mode, MODE_DEVICE);
export const isIrregularMode = (mode: number) => has(mode, MODE_IRREGULAR);

/** Go's time.Time JSON: RFC 3339 in UTC with the nanoseconds, trailing zeros trimmed. */
export function rfc3339Nano(sec: bigint, nsec: bigint): string {
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const frac = nsec === 0n ? '' : `.${nsec.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${frac}Z`;
}

export function pathStat(name: string, st: Stats | BigIntStats, linkTarget: string, mtimeNs?: bigint): PathStat {
  const ns = mtimeNs ?? BigInt(Math.round(Number(st.mtimeMs) * 1e6));
  return {
    name,
    size: Number(st.size),
    mode: goFileMode(Number(st.mode)),
    mtime: rfc3339Nano(ns / 1_000_000_000n, ns % 1_000_000_000n),
    linkTarget,
  };
}

export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

export function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  try {
    return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as PathStat;
  } catch {
    return undefined;
  }
}
