// One HTTP/1.1 exchange on a fresh connection: the request written by hand, the response parsed by http-parser-js.
// The CLI talks to the daemon this way rather than through node:http, whose client costs every command several
// milliseconds of start-up (it is the most frequent cost `tug` pays; see bench/run.sh).
import { Readable, type Duplex } from 'node:stream';
import { HTTPParser } from 'http-parser-js';

/** Response headers, names lowercased; repeated ones joined with ", ". */
export type Headers = Record<string, string>;

export interface Response { status: number; headers: Headers; body: Readable }
/** A response read to its end (JSON answers): no stream is made for it, which a short command notices. */
export interface CollectedResponse { status: number; headers: Headers; body: Buffer }
export interface Upgraded { status: 101; headers: Headers; socket: Duplex; head: Buffer }

export interface RequestHead {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
}

/** Statuses whose responses never have a body, whatever their headers say. */
const bodyless = (status: number, method: string) => method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);

function headerObject(raw: string[]): Headers {
  const h: Headers = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    h[k] = k in h ? `${h[k]}, ${raw[i + 1]}` : raw[i + 1];
  }
  return h;
}

function formatHead(r: RequestHead, bodyHeaders: Record<string, string>): string {
  let s = `${r.method} ${r.path} HTTP/1.1\r\nHost: ${r.host}\r\n`;
  const all = { Connection: 'close', ...r.headers, ...bodyHeaders };
  for (const [k, v] of Object.entries(all)) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}

function drainOrClose(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { socket.off('drain', done); socket.off('close', done); resolve(); };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Write a streamed body with chunked encoding; stops quietly when the connection goes (the response says why). */
async function writeChunked(socket: Duplex, body: Readable): Promise<void> {
  try {
    for await (const c of body) {
      const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
      if (!chunk.length) continue;
      if (socket.destroyed) break;
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      if (!socket.write('\r\n')) await drainOrClose(socket);
    }
    if (!socket.destroyed) socket.write('0\r\n\r\n');
  } catch {
    socket.destroy();
  }
}

/**
 * Send one request on `socket` (connecting or connected) and resolve with the response once its headers are in:
 * its body streams on, or, for a 101, the connection itself is handed over. Connection errors before the
 * headers reject; later ones end the body with an error. With `collect`, the response is resolved once it is
 * complete, its body in one buffer.
 */
export function exchange(socket: Duplex, head: RequestHead, body?: Buffer | Readable): Promise<Response | Upgraded>;
export function exchange(socket: Duplex, head: RequestHead, body: Buffer | Readable | undefined, collect: true): Promise<CollectedResponse | Upgraded>;
export function exchange(socket: Duplex, head: RequestHead, body?: Buffer | Readable, collect = false): Promise<Response | CollectedResponse | Upgraded> {
  return new Promise((resolve, reject) => {
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    let res: Readable | undefined;
    let collected: { status: number; headers: Headers; chunks: Buffer[] } | undefined;
    let done = false;
    let upgraded: Headers | undefined;

    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      const headers = headerObject(info.headers);
      if (info.upgrade) {
        upgraded = headers;
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        socket.pause();
        return 1;
      }
      if (collect) collected = { status: info.statusCode, headers, chunks: [] };
      else {
        res = new Readable({ read: () => { socket.resume(); } });
        resolve({ status: info.statusCode, headers, body: res });
      }
      return bodyless(info.statusCode, head.method) ? 1 : 0;
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer, offset: number, length: number) => {
      const part = Buffer.from(chunk.subarray(offset, offset + length));
      if (collected) collected.chunks.push(part);
      else if (res && !res.push(part)) socket.pause();
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (upgraded) return;
      done = true;
      if (collected) resolve({ status: collected.status, headers: collected.headers, body: Buffer.concat(collected.chunks) });
      res?.push(null);
      socket.end();
    };

    const fail = (e: Error) => {
      if (!res) reject(e);
      else if (!done) res.destroy(e);
    };
    const onData = (data: Buffer) => {
      const n = parser.execute(data);
      if (n instanceof Error) { fail(n); socket.destroy(); return; }
      if (upgraded) {
        resolve({ status: 101, headers: upgraded, socket, head: data.subarray(n) });
      }
    };
    const onEnd = () => {
      if (done) return;
      parser.finish(); // completes a body that runs until the close; anything else is cut short
      if (!done) fail(Object.assign(new Error('the daemon closed the connection early'), { code: 'ECONNRESET' }));
    };
    const onError = (e: Error) => fail(e);
    const onClose = () => { if (!done && !upgraded) onEnd(); };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);

    if (body === undefined) socket.write(formatHead(head, {}));
    else if (Buffer.isBuffer(body)) {
      socket.write(formatHead(head, { 'Content-Length': String(body.length) }));
      socket.write(body);
    } else {
      socket.write(formatHead(head, { 'Transfer-Encoding': 'chunked' }));
      void writeChunked(socket, body);
    }
  });
}
