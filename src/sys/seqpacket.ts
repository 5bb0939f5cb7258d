// conmon's attach socket is a SOCK_SEQPACKET unix socket, which node:net cannot connect to (libuv
// calls its type unknown). Connect with libc through koffi, then wrap the fd in node's pipe handle.
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import { socketOnFd } from './fd-socket.js';
import { connectSeqpacketFd } from './libc.js';

/** conmon reads at most this much per packet; a larger packet would be truncated. */
const MAX_PACKET = 16384;

/**
 * A writable stream into a container's stdin through conmon's attach socket. Output conmon copies
 * back is read and dropped (the log is our source); ending the stream closes the socket, which
 * makes conmon close the container's stdin.
 */
export function connectSeqpacket(path: string): Transform {
  const sock = openSeqpacket(path);
  sock.on('data', () => undefined);
  return packetWriter(sock);
}

/** The raw socket: each read is one packet (conmon prefixes output with its pipe: 2 stdout, 3 stderr). */
export function openSeqpacket(path: string): Socket {
  const sock = socketOnFd(connectSeqpacketFd(path), { readable: true, writable: true });
  sock.on('error', () => undefined);
  return sock;
}

/** A writable that sends to `sock` in packets conmon reads whole; ending it closes the socket for writing. */
export function packetWriter(sock: Socket): Transform {
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
