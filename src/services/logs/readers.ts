// Who is reading a log right now, and which file (by inode) each is in: rotation keeps old files that a
// follower has not finished yet, so an attached client or `logs -f` never loses lines to a fast writer.
export interface LogReader { readingIno(): number }

const readers = new Map<string, Set<LogReader>>();

export function addReader(path: string, r: LogReader): void {
  let set = readers.get(path);
  if (!set) readers.set(path, (set = new Set()));
  set.add(r);
}

const idleWaiters = new Map<string, Array<() => void>>();

export function removeReader(path: string, r: LogReader): void {
  const set = readers.get(path);
  set?.delete(r);
  if (set && set.size === 0) {
    readers.delete(path);
    for (const w of idleWaiters.get(path) ?? []) w();
    idleWaiters.delete(path);
  }
}

/**
 * Resolves once nobody follows `path` (an attached client draining the last lines of a container that just
 * exited), or after `timeoutMs`: removing a container waits for this before its log goes.
 */
export function readersDone(path: string, timeoutMs: number): Promise<void> {
  if (!readers.has(path)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const list = idleWaiters.get(path) ?? [];
    list.push(() => { clearTimeout(timer); resolve(); });
    idleWaiters.set(path, list);
  });
}

/** Inodes other than `live` that followers of `path` are still reading. */
export function lagging(path: string, live: number): number[] {
  return [...(readers.get(path) ?? [])].map((r) => r.readingIno()).filter((i) => i !== 0 && i !== live);
}

const locks = new Map<string, Promise<unknown>>();

/** Renaming the rotated files and listing them never interleave (both happen in this process). */
export function withLogLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const run = (locks.get(path) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(path, tail);
  void tail.then(() => { if (locks.get(path) === tail) locks.delete(path); });
  return run;
}
