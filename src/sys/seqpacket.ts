// conmon's attach socket is a SOCK_SEQPACKET unix socket, which node:net cannot connect to.
// Connect with libc through koffi, then hand the fd to a net.Socket (libuv reads/writes it like a pipe).
import { createRequire } from 'node:module';
import { Socket } from 'node:net';

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

export function connectSeqpacket(path: string): Socket {
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
  return new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
}
