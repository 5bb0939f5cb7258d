// Docker's multiplexed stream framing: [stream, 0, 0, 0, uint32 BE length] + payload.
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export function frame(stream: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW = 'application/vnd.docker.raw-stream';

/** Content type of attach/logs/exec output: multiplexed unless the process has a TTY (API ≥ 1.42 names it). */
export function streamContentType(tty: boolean, version: number): string {
  return !tty && version >= 1.42 ? MULTIPLEXED : RAW;
}
