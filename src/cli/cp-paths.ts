// docker cp's rules for paths, as docker's CLI and its archive package apply them: which side is a container,
// what a trailing "/" or "/." means, and how the archive's names are rebased so that extracting it into a
// directory gives `cp`'s result (copy into an existing directory, or create the destination with the source's
// content). Pure functions on Go-style (filepath) paths.
import { posix } from 'node:path';

/** `CONTAINER:PATH` or a local path; a local path with a ':' must start with '/' or '.' ("./a:b"). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Go's filepath.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** Go's filepath.Base: the last element, trailing slashes ignored. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

/** Go's filepath.Dir. */
export function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(p.slice(0, i + 1));
}

export const hasTrailingSeparator = (p: string) => p.length > 0 && p.endsWith('/');
export const specifiesCurrentDir = (p: string) => goBase(p) === '.';
/** "/" or "/." at the end: the path must be a directory. */
export const assertsDirectory = (p: string) => hasTrailingSeparator(p) || specifiesCurrentDir(p);

/** A cleaned path given back the trailing "/." or "/" the original had. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let p = cleaned;
  if (!specifiesCurrentDir(p) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(p)) p += '/';
    p += '.';
  }
  if (!hasTrailingSeparator(p) && hasTrailingSeparator(original)) p += '/';
  return p;
}

/** The directory and the entry in it, a trailing "." kept as the entry. */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return { dir: goDir(cleaned), base: goBase(cleaned) };
}

/** After following a link: the resolved path with the original's trailing "/" or "/.", and the name the archive
 *  must show when the last element changed (else ''). */
export function rebaseForLink(path: string, resolved: string): { path: string; rebaseName: string } {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(r)) r += '/';
  return { path: r, rebaseName: goBase(path) !== goBase(r) ? goBase(path) : '' };
}

/** Replaces `oldBase` at the start of archive names with `newBase` (docker's RebaseArchiveEntries). */
export function nameRebaser(oldBase: string, newBase: string): (name: string) => string {
  const from = oldBase.replace(/\/+$/, '');
  const to = newBase.replace(/\/+$/, '');
  if (from === '') return (name) => { const n = name.replace(/^\/+/, ''); return to === '' ? n : `${to}/${n}`; };
  return (name) => {
    if (!name.startsWith(from)) return name;
    const suffix = name.slice(from.length);
    return suffix === '' || suffix.startsWith('/') ? to + suffix : name;
  };
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  /** The name the archive's top entry must take (a followed link), if not its own. */
  rebaseName?: string;
}

export class CopyError extends Error {}

/**
 * Where to extract an archive of `src` so that it lands as `dst`, and how to rename its entries: into `dst`
 * itself when it is an existing directory, else into its parent with the top entry renamed to dst's name.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: { from: string; to: string } } {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName || splitPathDirEntry(src.path).base;
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new CopyError('no such directory');
  return { dstDir, rebase: { from: srcBase, to: dstBase } };
}
