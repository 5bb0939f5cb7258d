// Depth-first walk of a tree someone else controls (a container's upper dir, or its merged rootfs), in byte
// order, parent before children, never following a symlink (see SafeDir). For an upper dir it also says, on
// demand, what the layers below show at each path, and can list lower entries an opaque directory hides.
import type { BigIntStats } from 'node:fs';
import { SafeDir } from '../../sys/safedir.js';
import { isOpaqueDir } from '../../sys/xattr.js';
import { isWhiteout, lowerChild, lowerNames, lowerRoot, type LowerNode } from './lower.js';

export interface TreeEntry {
  hidden?: false;
  /** "/etc/passwd", as bytes. */
  path: Buffer;
  name: Buffer;
  /** The open directory holding it: read the entry through it (parent.child(name)) while handling it. */
  parent: SafeDir;
  stat: BigIntStats;
  /** An overlay whiteout: the path was deleted. */
  whiteout: boolean;
  /** A directory that hides the lower layers' contents. */
  opaque: boolean;
  /** The directory's mtime changed only because the engine made mount stubs in it. */
  mtimeUnreliable: boolean;
  /** What the layers below show here (upper walks only). */
  lower(): Promise<LowerNode>;
}

/** A lower entry that an opaque directory above hides, with no upper entry of its own: a deletion. */
export interface HiddenEntry { hidden: true; path: Buffer }

export interface WalkOptions {
  /** The overlay lowerdirs below this upper dir, top first. */
  lowers?: string[];
  /** Leave out the files and directories the engine makes for its own mounts (see MOUNT_STUBS). */
  skipMountStubs?: boolean;
  /** Also yield the lower entries opaque directories hide. */
  hidden?: boolean;
}

// runc makes these mount points in the rootfs when the image lacks them; docker keeps them in a hidden "init"
// layer, so they never show in a diff or a commit. /etc is made (or copied up) only to hold stubs at times.
const MOUNT_STUBS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys']);
const STUB_PARENTS = new Set(['/etc']);

const SLASH = Buffer.from('/');
const NO_LOWER: LowerNode = { dirs: [] };

function gone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export async function* walkTree(root: string, o: WalkOptions = {}): AsyncGenerator<TreeEntry | HiddenEntry> {
  const dir = await SafeDir.open(root);
  try {
    const lower = o.lowers ? lowerRoot(o.lowers) : NO_LOWER;
    yield* walkDir(dir, Buffer.alloc(0), async () => lower, false, o);
  } finally {
    await dir.close();
  }
}

async function* walkDir(dir: SafeDir, path: Buffer, lower: () => Promise<LowerNode>, underOpaque: boolean, o: WalkOptions): AsyncGenerator<TreeEntry | HiddenEntry> {
  const names = await dir.names();
  let hidden: Buffer[] = [];
  if (o.hidden && o.lowers && underOpaque) {
    const present = new Set(names.map((n) => n.toString('latin1')));
    hidden = (await lowerNames(await lower())).filter((n) => !present.has(n.toString('latin1')));
  }
  const all = [...names.map((n) => ({ n, hidden: false })), ...hidden.map((n) => ({ n, hidden: true }))].sort((a, b) => Buffer.compare(a.n, b.n));
  for (const { n: name, hidden: isHidden } of all) {
    const childPath = Buffer.concat([path, SLASH, name]);
    const display = childPath.toString();
    if (o.skipMountStubs && MOUNT_STUBS.has(display)) continue;
    if (isHidden) { yield { hidden: true, path: childPath }; continue; }
    let stat: BigIntStats;
    try { stat = await dir.lstat(name); } catch (e) { if (gone(e)) continue; throw e; }
    const childLower = o.lowers ? memo(async () => lowerChild(await lower(), name)) : async () => NO_LOWER;
    const whiteout = !!o.lowers && isWhiteout(stat);
    if (!stat.isDirectory()) {
      yield { path: childPath, name, parent: dir, stat, whiteout, opaque: false, mtimeUnreliable: false, lower: childLower };
      continue;
    }
    let sub: SafeDir;
    try { sub = await dir.openDir(name); } catch (e) { if (gone(e)) continue; throw e; }
    try {
      const opaque = !!o.lowers && isOpaqueDir(dir.child(name));
      let mtimeUnreliable = false;
      if (o.skipMountStubs && STUB_PARENTS.has(display)) {
        const onlyStubs = (await sub.names()).every((n) => MOUNT_STUBS.has(`${display}/${n.toString()}`));
        const below = (await childLower()).stat;
        // made or copied up just to hold the stubs: not a change of the container's
        if (onlyStubs && !opaque && (!below || (below.isDirectory() && sameOwnerAndMode(stat, below)))) continue;
        mtimeUnreliable = true;
      }
      yield { path: childPath, name, parent: dir, stat, whiteout: false, opaque, mtimeUnreliable, lower: childLower };
      yield* walkDir(sub, childPath, childLower, underOpaque || opaque, o);
    } finally {
      await sub.close();
    }
  }
}

export function sameOwnerAndMode(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}
