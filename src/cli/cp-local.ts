// docker cp's host side: what the local source and destination are (docker's CopyInfoSourcePath,
// CopyInfoDestinationPath, ValidateOutputPath), a tar of a local path, and unpacking into a local directory
// through the same descriptor-based extractor the daemon uses (an archive never writes outside the directory).
import { closeSync, constants, lstatSync, openSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InRoot, O_PATH } from '../sys/inroot.js';
import { packTree } from '../util/tar/pack-tree.js';
import { extractTree, type Owner } from '../util/tar/extract-tree.js';
import {
  CopyError, goBase, goClean, goDir, hasTrailingSeparator, preserveTrailingDotOrSeparator, rebaseForLink, splitPathDirEntry, type CopyInfo,
} from './cp-paths.js';

/** Go's error text for a failed syscall on a path ("lstat /x: no such file or directory"). */
function goError(op: string, path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : code === 'ELOOP' ? 'too many levels of symbolic links' : (e as Error).message;
  return new CopyError(`${op} ${path}: ${reason}`);
}

export function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(goClean(resolvePath(p)), p);
}

/** docker's ValidateOutputPath: the parent must exist, and an existing destination be a directory or a file. */
export function validateOutputPath(p: string): void {
  const dir = goDir(goClean(p));
  if (dir !== '' && dir !== '.') {
    try { statSync(dir); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CopyError(`invalid output path: directory "${dir}" does not exist`); }
  }
  let st;
  try { st = statSync(p); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; throw e; }
  if (st.isDirectory() || st.isFile()) return;
  const what = st.isCharacterDevice() || st.isBlockDevice() ? 'got a device' : 'got an irregular file';
  throw new CopyError(`invalid output path: "${p}" must be a directory or a regular file: ${what}`);
}

/** The local source: links before the last element resolved (all of them with -L). */
export function copyInfoSourcePath(path: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    try { resolved = realpathSync(path); } catch (e) { throw goError('lstat', path, e); }
    ({ path: resolved, rebaseName } = rebaseForLink(path, resolved));
  } else {
    const i = path.lastIndexOf('/');
    const dirPart = path.slice(0, i + 1) || '.';
    const basePart = path.slice(i + 1);
    let dir: string;
    try { dir = realpathSync(dirPart); } catch (e) { throw goError('lstat', goClean(dirPart), e); }
    resolved = dir === '/' ? `/${basePart}` : `${dir}/${basePart}`;
    if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rebaseName = goBase(path);
  }
  let st;
  try { st = lstatSync(resolved); } catch (e) { throw goError('lstat', resolved, e); }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** The local destination: a final symlink followed (up to 10 times); a missing one needs an existing parent directory. */
export function copyInfoDestinationPath(path: string): CopyInfo {
  let p = path;
  let st;
  try { st = lstatSync(p); } catch { st = undefined; }
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new CopyError(`too many symlinks in ${path}`);
    const target = readlinkSync(p);
    p = target.startsWith('/') ? target : posixJoin(splitPathDirEntry(p).dir, target);
    try { st = lstatSync(p); } catch { st = undefined; }
  }
  if (st) return { path: p, exists: true, isDir: st.isDirectory() };
  const parent = splitPathDirEntry(p).dir;
  let pst;
  try { pst = statSync(parent); } catch (e) { throw goError('stat', parent, e); }
  if (!pst.isDirectory()) throw new CopyError('not a directory');
  return { path: p, exists: false, isDir: false };
}

function posixJoin(a: string, b: string): string {
  return goClean(`${a}/${b}`);
}

/** A tar of the local `src` whose top entry is named `name`, written to `out` (ended after). Root (0:0) owns the
 *  entries unless `keepOwner`, as docker documents `cp` (files copied in are root's, -a keeps the source's ids). */
export async function packLocal(src: CopyInfo, name: string, out: Writable, keepOwner: boolean): Promise<number> {
  const followed = src.path.endsWith('/') || src.path.endsWith('/.');
  const fd = openSync(src.path, O_PATH | (followed ? 0 : constants.O_NOFOLLOW));
  try {
    const linkname = lstatSync(src.path).isSymbolicLink() && !followed ? readlinkSync(src.path, { encoding: 'buffer' }) : undefined;
    const bytes = await packTree({ fd, name, path: src.path, linkname }, out, keepOwner ? {} : { owner: { uid: 0, gid: 0 } });
    out.end();
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** Unpacks `input` into the local directory `dir`, entries renamed by `rename`. */
export async function extractLocal(input: Readable, dir: string, rename: (name: string) => string, keepOwner: boolean): Promise<void> {
  const root = InRoot.open(dir);
  try {
    // the archive's ids only with -a, and only root may give files away
    const owner: Owner = keepOwner && process.getuid?.() === 0 ? 'header' : 'none';
    await extractTree(input, { root, dest: '/', noOverwriteDirNonDir: true, owner, rename, displayRoot: dir });
  } finally {
    root.close();
  }
}
