// After a burst of work (a pull, a build, many starts) glibc keeps what node's threads freed in its heaps, and
// an idle daemon would go on holding it: once nothing has happened for a moment, hand it back to the kernel.
import { mallocTrim } from './libc.js';

const QUIET_MS = 2000;
let timer: NodeJS.Timeout | undefined;

/** Something happened (a request, a worker's end): trim once the daemon has been quiet for QUIET_MS. */
export function noteActivity(): void {
  if (timer) timer.refresh();
  else timer = setTimeout(() => { timer = undefined; mallocTrim(); }, QUIET_MS).unref();
}
