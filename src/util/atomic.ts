// Crash-safe JSON state: write a temp file, fsync it, rename over the target, fsync the directory.
import { promises as fs, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

/**
 * `durable: false` skips the fsyncs: the rename is still atomic, but the last update may be lost on
 * power failure. Used for state that is re-derived on start-up anyway (a container's run state).
 */
export async function writeFileAtomic(path: string, data: string | Buffer, durable = true): Promise<void> {
  const tmp = tempPath(path);
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
  if (!durable) return;
  const dir = await fs.open(dirname(path), 'r');
  try { await dir.sync(); } finally { await dir.close(); }
}

export const writeJsonAtomic = (path: string, value: unknown, durable = true) => writeFileAtomic(path, JSON.stringify(value, null, 1), durable);

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function readJsonSync<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
