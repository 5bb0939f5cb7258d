// One process at a time on a storage root: the server holds <root>/registry.lock while it runs, and garbage
// collection takes it too, so it never deletes a blob a running server is about to link. The file names the
// holder (pid and its start time, so a reused pid is not mistaken for it); a holder that is gone is replaced.
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Holder { pid: number; started: string; what: string }

/** A process's start time in clock ticks since boot, from /proc; undefined when it is not running. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readHolder(file: string): Holder | undefined {
  try { return JSON.parse(readFileSync(file, 'utf8')) as Holder; } catch { return undefined; }
}

export class LockedError extends Error {}

/** Take the root's lock for `what` ("serve", "gc"); returns the release function. */
export function lockRoot(root: string, what: string): () => void {
  const file = join(root, 'registry.lock');
  const me: Holder = { pid: process.pid, started: startTime(process.pid) ?? '', what };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return () => {
        const h = readHolder(file);
        if (h?.pid === me.pid && h.started === me.started) unlinkSync(file);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const h = readHolder(file);
    // an unreadable file may be one being written this instant: only an old one is taken as abandoned
    const fresh = !h && Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 5000;
    if (fresh) throw new LockedError(`${root} is in use: ${file} is being taken`);
    if (h && startTime(h.pid) === h.started) throw new LockedError(`${root} is in use by registry ${h.what} (pid ${h.pid})`);
    try { unlinkSync(file); } catch { /* another process replaced it first */ }
  }
  throw new LockedError(`${root} is in use: could not take ${file}`);
}
