// Docker-style log rotation (max-size, max-file) for conmon-written logs: shift the files, then ask
// conmon to reopen. conmon's own --log-size-max stays as a hard cap while the daemon is down.
import { promises as fs } from 'node:fs';
import { parseBytes } from '../../util/units.js';

export interface LogLimits { maxSize: number; maxFile: number }

export const DEFAULT_LOG_LIMITS: LogLimits = { maxSize: 10 * 1024 * 1024, maxFile: 3 };

export function logLimits(opts: Record<string, string> | undefined, defaults: LogLimits = DEFAULT_LOG_LIMITS): LogLimits {
  const maxSize = opts?.['max-size'] ? parseBytes(opts['max-size']) : defaults.maxSize;
  const maxFile = opts?.['max-file'] ? Number(opts['max-file']) : defaults.maxFile;
  if (!Number.isInteger(maxFile) || maxFile < 1) throw new Error(`invalid value for max-file: ${opts?.['max-file']}`);
  if (maxSize < 0) throw new Error(`invalid value for max-size: ${opts?.['max-size']}`);
  return { maxSize, maxFile };
}

/** Rotate when the live file reached maxSize. Returns true when it rotated (the caller asks conmon to reopen). */
export async function rotateIfNeeded(path: string, l: LogLimits): Promise<boolean> {
  if (l.maxSize <= 0) return false;
  let size: number;
  try { size = (await fs.stat(path)).size; } catch { return false; }
  if (size < l.maxSize) return false;
  if (l.maxFile <= 1) {
    await fs.truncate(path, 0);
    return false;
  }
  await fs.rm(`${path}.${l.maxFile - 1}`, { force: true });
  for (let i = l.maxFile - 2; i >= 1; i--) {
    await fs.rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
  }
  await fs.rename(path, `${path}.1`);
  return true;
}

export async function removeLogs(path: string, maxFiles = 10): Promise<void> {
  await fs.rm(path, { force: true });
  for (let i = 1; i <= maxFiles; i++) await fs.rm(`${path}.${i}`, { force: true });
}
