// Docker-style log rotation (max-size, max-file) for conmon-written logs: shift the files, then ask
// conmon to reopen. conmon's own --log-size-max stays as a hard cap while the daemon is down.
import { lagging, withLogLock } from './readers.js';
import { promises as fs, watch } from 'node:fs';
import { basename } from 'node:path';
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
  return withLogLock(path, async () => {
    let st;
    try { st = await fs.stat(path); } catch { return false; }
    if (st.size < l.maxSize) return false;
    const busy = lagging(path, st.ino);
    if (l.maxFile <= 1 && busy.length === 0) {
      await fs.truncate(path, 0);
      return false;
    }
    // the rotated files, newest first; a follower still inside one of them keeps them all
    let last = 0;
    while (await fs.stat(`${path}.${last + 1}`).then(() => true, () => false)) last++;
    const keep = busy.length > 0 ? last : Math.min(last, Math.max(l.maxFile - 2, 0));
    for (let i = last; i > keep; i--) await fs.rm(`${path}.${i}`, { force: true });
    for (let i = keep; i >= 1; i--) await fs.rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
    await fs.rename(path, `${path}.1`);
    return true;
  });
}

export async function removeLogs(path: string, maxFiles = 10): Promise<void> {
  await fs.rm(path, { force: true });
  for (let i = 1; i <= maxFiles; i++) await fs.rm(`${path}.${i}`, { force: true });
}

/**
 * Watches running containers' log directories and rotates a log as soon as it passes max-size
 * (inotify, throttled), so a fast writer overshoots by little and followers keep up.
 */
export class LogRotator {
  private watchers = new Map<string, { close(): void }>();

  constructor(private readonly reopen: (id: string) => void) {}

  watch(id: string, dir: string, path: string, limits: LogLimits): void {
    this.unwatch(id);
    if (limits.maxSize <= 0) return;
    let pending: NodeJS.Timeout | undefined;
    let busy = false;
    const check = () => {
      pending = undefined;
      if (busy) return;
      busy = true;
      rotateIfNeeded(path, limits)
        .then((rotated) => { if (rotated) this.reopen(id); })
        .catch(() => undefined)
        .finally(() => { busy = false; });
    };
    try {
      const w = watch(dir, (_ev, name) => {
        if (name !== basename(path) || pending) return;
        pending = setTimeout(check, 20);
      });
      w.on('error', () => undefined);
      this.watchers.set(id, { close: () => { w.close(); if (pending) clearTimeout(pending); } });
    } catch { /* directory gone */ }
  }

  unwatch(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
