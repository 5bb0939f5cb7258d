// conmon's attach socket is a SOCK_SEQPACKET unix socket, which node:net cannot connect to (libuv
// calls its type unknown). Connect with libc through koffi, then wrap the fd in a libuv pipe handle:
// non-blocking reads and writes with backpressure, as for any stream socket.
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { Transform } from 'node:stream';

const require = createRequire(import.meta.url);
const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;

interface Fns {
  socket(domain: number, type: number, proto: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  close(fd: number): number;
  errno(): number;
}
let fns: Fns | undefined;

function load(): Fns {
  if (fns) return fns;
  const koffi = require('koffi');
  const lib = koffi.load('libc.so.6');
  fns = {
    socket: lib.func('int socket(int, int, int)'),
    connect: lib.func('int connect(int, const void *, uint32_t)'),
    close: lib.func('int close(int)'),
    errno: () => koffi.errno() as number,
  };
  return fns;
}

/** conmon reads at most this much per packet; a larger packet would be truncated. */
const MAX_PACKET = 16384;

interface PipeHandle { open(fd: number): void }
type PipeCtor = new (type: number) => PipeHandle;

/** A socket on an already connected fd, through node's own pipe handle. */
function wrapFd(fd: number): Socket {
  const binding = (process as unknown as { binding(name: string): { Pipe: PipeCtor; constants: { SOCKET: number } } }).binding('pipe_wrap');
  const handle = new binding.Pipe(binding.constants.SOCKET);
  handle.open(fd);
  return new Socket({ handle, readable: true, writable: true } as unknown as ConstructorParameters<typeof Socket>[0]);
}

/**
 * A writable stream into a container's stdin through conmon's attach socket. Output conmon copies
 * back is read and dropped (the log is our source); ending the stream closes the socket, which
 * makes conmon close the container's stdin.
 */
export function connectSeqpacket(path: string): Transform {
  const f = load();
  const sun = Buffer.alloc(110);
  sun.writeUInt16LE(AF_UNIX, 0);
  const p = Buffer.from(path);
  if (p.length > 107) throw new Error(`socket path too long: ${path}`);
  p.copy(sun, 2);
  const fd = f.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket: errno ${f.errno()}`);
  if (f.connect(fd, sun, 2 + p.length + 1) !== 0) {
    const e = f.errno();
    f.close(fd);
    throw new Error(`connect ${path}: errno ${e}`);
  }
  const sock = wrapFd(fd);
  sock.on('data', () => undefined);
  sock.on('error', () => undefined);
  const packets = new Transform({
    transform(chunk: Buffer, _enc, done) {
      for (let i = 0; i < chunk.length; i += MAX_PACKET) this.push(chunk.subarray(i, i + MAX_PACKET));
      done();
    },
  });
  packets.pipe(sock);
  packets.on('close', () => { if (!packets.writableFinished) sock.destroy(); });
  return packets;
}
