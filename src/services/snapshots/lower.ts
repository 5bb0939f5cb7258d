// What the read-only layers below an overlay upper dir show at a path, looked up the way overlayfs merges
// them: top layer first, a whiteout (char device 0/0) or a non-directory ends the search, an opaque directory
// stops the merge below it. The layers are our own snapshots, so plain paths are safe here.
import { promises as fs, type BigIntStats } from 'node:fs';
import { isOpaqueDir } from '../../sys/xattr.js';

export interface LowerNode {
  /** What is visible at this path (undefined: nothing). */
  stat?: BigIntStats;
  /** The directories merged at this path, top first (empty unless `stat` is a directory). */
  dirs: Buffer[];
}

const SLASH = Buffer.from('/');

export const isWhiteout = (st: BigIntStats): boolean => st.isCharacterDevice() && st.rdev === 0n;

export function lowerRoot(lowers: string[]): LowerNode {
  return { dirs: lowers.map((l) => Buffer.from(l)) };
}

async function lstatOrUndefined(p: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await fs.lstat(p, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export async function lowerChild(parent: LowerNode, name: Buffer): Promise<LowerNode> {
  let stat: BigIntStats | undefined;
  const dirs: Buffer[] = [];
  for (const d of parent.dirs) {
    const p = Buffer.concat([d, SLASH, name]);
    const st = await lstatOrUndefined(p);
    if (!st) continue;
    if (isWhiteout(st)) break;
    // a non-directory hides everything below it, and a directory hides non-directories below it
    if (!st.isDirectory()) { stat ??= st; break; }
    stat ??= st;
    dirs.push(p);
    if (isOpaqueDir(p)) break;
  }
  return { stat, dirs };
}

/** The names visible in a merged lower directory, in byte order. */
export async function lowerNames(node: LowerNode): Promise<Buffer[]> {
  const seen = new Map<string, boolean>();
  for (const d of node.dirs) {
    let names: Buffer[];
    try { names = await fs.readdir(d, { encoding: 'buffer' }); } catch { continue; }
    for (const n of names) {
      const key = n.toString('latin1');
      if (seen.has(key)) continue;
      const st = await lstatOrUndefined(Buffer.concat([d, SLASH, n]));
      if (st) seen.set(key, !isWhiteout(st));
    }
  }
  return [...seen].filter(([, visible]) => visible).map(([k]) => Buffer.from(k, 'latin1')).sort(Buffer.compare);
}
