// `docker diff`: what a container changed, read from its overlay upper dir against the image's layers.
// As docker's overlay walk: a whiteout is a deletion; an upper path the layers below also have is a
// modification, unless it is a directory with the same mode, size and mtime (then it shows only as the parent
// of an addition or deletion); anything else is an addition. Beyond docker, an opaque directory (its old
// contents removed, e.g. `rm -rf /x; mkdir /x`) reports the lower entries it hides as deletions.
import type { BigIntStats } from 'node:fs';
import { walkTree } from './walk.js';

export const ChangeKind = { Modified: 0, Added: 1, Deleted: 2 } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

export interface Change { Path: string; Kind: ChangeKind }

/** docker's sameFsTime: equal, or equal seconds when either side has no sub-second part. */
function sameTime(a: bigint, b: bigint): boolean {
  const s = 1_000_000_000n;
  return a === b || (a / s === b / s && (a % s === 0n || b % s === 0n));
}

function sameDir(upper: BigIntStats, lower: BigIntStats, ignoreMtime: boolean): boolean {
  return upper.size === lower.size && upper.mode === lower.mode && (ignoreMtime || sameTime(upper.mtimeNs, lower.mtimeNs));
}

const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';

export async function overlayChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const recordedDirs = new Set<string>();
  for await (const e of walkTree(upper, { lowers, skipMountStubs: true, hidden: true })) {
    const path = e.path.toString();
    let kind: ChangeKind;
    if (e.hidden || e.whiteout) {
      kind = ChangeKind.Deleted;
    } else {
      const below = (await e.lower()).stat;
      if (!below) kind = ChangeKind.Added;
      else if (e.stat.isDirectory() && below.isDirectory() && !e.opaque && sameDir(e.stat, below, e.mtimeUnreliable)) continue;
      else kind = ChangeKind.Modified;
      if (e.stat.isDirectory()) recordedDirs.add(path);
    }
    // an addition or deletion changes its directory, even when the directory's own metadata looks the same
    const parent = parentOf(path);
    if (kind !== ChangeKind.Modified && parent !== '/' && !recordedDirs.has(parent)) {
      out.push({ Path: parent, Kind: ChangeKind.Modified });
      recordedDirs.add(parent);
    }
    out.push({ Path: path, Kind: kind });
  }
  return out;
}
