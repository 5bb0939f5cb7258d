import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** Bytes used by a directory tree (apparent sizes; hardlinks counted once). */
export async function dirSize(root: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try { entries = await fs.readdir(dir, { withFileTypes: true }); } catch { return; }
    await Promise.all(entries.map(async (e) => {
      const p = join(dir, e.name);
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st) return;
      if (st.nlink > 1) { if (seen.has(st.ino)) return; seen.add(st.ino); }
      if (e.isDirectory()) await walk(p);
      else total += st.size;
    }));
  };
  await walk(root);
  return total;
}
