// The CLI's output. node builds process.stdout and process.stderr (a stream and the modules behind it, 1.5-2.5 ms)
// on first access: a command that prints a line or two (`run -d`'s ID, an error) writes them to its descriptors
// directly instead, and a closed pipe on either (`tug logs -f | head -1`) ends the command quietly.
import { writeSync } from 'node:fs';

type StdName = 'stdout' | 'stderr';
const made: Record<StdName, boolean> = { stdout: false, stderr: false };

/**
 * Replaces node's getters for process.stdout/stderr: the stream is still made on first use, now with the EPIPE
 * handler attached, and the writers below know from then on to go through it (keeping the order of output).
 */
export function installLazyStdio(): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const original = Object.getOwnPropertyDescriptor(process, name);
    if (!original?.get) continue;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: original.enumerable,
      get() {
        const stream = original.get?.call(process) as NodeJS.WriteStream;
        Object.defineProperty(process, name, { configurable: true, enumerable: original.enumerable, writable: true, value: stream });
        made[name] = true;
        stream.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code === 'EPIPE') process.exit(0);
          throw e;
        });
        return stream;
      },
    });
  }
}

function write(name: StdName, data: string | Uint8Array): void {
  if (made[name]) { process[name].write(data); return; }
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  try {
    while (done < buf.length) done += writeSync(name === 'stdout' ? 1 : 2, buf, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') process.exit(0);
    // a descriptor someone made non-blocking, and full: the stream waits for room
    if (code !== 'EAGAIN') throw e;
    process[name].write(buf.subarray(done));
  }
}

export const out = (data: string | Uint8Array): void => write('stdout', data);
export const err = (data: string | Uint8Array): void => write('stderr', data);
