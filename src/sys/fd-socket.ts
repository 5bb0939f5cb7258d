// A node stream socket on a descriptor node did not open itself (a pipe or a connected socket made through koffi):
// node's own pipe handle gives it non-blocking reads and writes with backpressure, as for any socket.
import { Socket } from 'node:net';

interface PipeHandle { open(fd: number): void }
type PipeCtor = new (type: number) => PipeHandle;

export function socketOnFd(fd: number, o: { readable: boolean; writable: boolean }): Socket {
  const binding = (process as unknown as { binding(name: string): { Pipe: PipeCtor; constants: { SOCKET: number } } }).binding('pipe_wrap');
  const handle = new binding.Pipe(binding.constants.SOCKET);
  handle.open(fd);
  return new Socket({ handle, ...o } as unknown as ConstructorParameters<typeof Socket>[0]);
}
