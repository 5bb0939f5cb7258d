// The CLI's HTTP/1.1 exchange (src/client/http1.ts) against node's HTTP server and against raw sockets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { exchange, type Response, type Upgraded } from '../../src/client/http1.ts';

const dir = mkdtempSync(join(tmpdir(), 'tug-http1-'));
const sock = join(dir, 'http.sock');
let server: http.Server;

before(async () => {
  server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => { hash.update(c); n += c.length; });
    req.on('end', () => {
      if (req.url === '/echo') {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('X-Multi', ['a', 'b']);
        res.end(JSON.stringify({ method: req.method, bytes: n, sha: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null }));
      } else if (req.url === '/nocontent') {
        res.writeHead(204).end();
      } else if (req.url === '/stream') {
        // chunked, a line at a time, with pauses between
        let i = 0;
        const t = setInterval(() => {
          res.write(`line ${i}\n`);
          if (++i === 5) { clearInterval(t); res.end(); }
        }, 5);
      } else if (req.url === '/big') {
        res.end(Buffer.alloc(3 << 20, 9));
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"no such thing"}');
      }
    });
  });
  server.on('upgrade', (req, socket, head) => {
    // the 101 and the first output in one write, as a daemon answers an attach to a talkative container
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst;');
    if (head.length) socket.write(head);
    socket.on('data', (d: Buffer) => socket.write(d));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => server.listen(sock, r));
});
after(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const head = (method: string, path: string, headers: Record<string, string> = {}) => ({ method, path, host: 'localhost', headers });

async function text(r: Response | Upgraded): Promise<string> {
  assert.ok('body' in r);
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('a JSON body with its length; response headers lowercased and repeated ones joined', async () => {
  const r = await exchange(net.connect(sock), head('POST', '/echo'), Buffer.from('hello'));
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['x-multi'], 'a, b');
  const j = JSON.parse(await text(r));
  assert.deepEqual(j, { method: 'POST', bytes: 5, sha: createHash('sha256').update('hello').digest('hex'), te: null });
});

test('a streamed body goes chunked and arrives intact, through back-pressure', async () => {
  const data = Buffer.alloc(8 << 20);
  for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
  const parts = function* () { for (let i = 0; i < data.length; i += 100_003) yield data.subarray(i, i + 100_003); };
  const r = await exchange(net.connect(sock), head('POST', '/echo'), Readable.from(parts()));
  const j = JSON.parse(await text(r));
  assert.equal(j.te, 'chunked');
  assert.equal(j.bytes, data.length);
  assert.equal(j.sha, createHash('sha256').update(data).digest('hex'));
});

test('a chunked response streams as it comes; a 204 ends at once; a large body is whole', async () => {
  const r = await exchange(net.connect(sock), head('GET', '/stream'));
  assert.equal(await text(r), [0, 1, 2, 3, 4].map((i) => `line ${i}\n`).join(''));
  const n = await exchange(net.connect(sock), head('DELETE', '/nocontent'));
  assert.equal(n.status, 204);
  assert.equal(await text(n), '');
  const b = await exchange(net.connect(sock), head('GET', '/big'));
  assert.equal((await text(b)).length, 3 << 20);
});

test('an error status comes back as a response with its body', async () => {
  const r = await exchange(net.connect(sock), head('GET', '/missing'));
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(await text(r)).message, 'no such thing');
});

test('upgrade: the bytes that came with the 101 are handed over, and the connection is two-way', async () => {
  const r = await exchange(net.connect(sock), head('POST', '/attach', { Connection: 'Upgrade', Upgrade: 'tcp' }));
  assert.equal(r.status, 101);
  assert.ok('socket' in r);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
  r.socket.unshift(r.head);
  const got: Buffer[] = [];
  r.socket.on('data', (d: Buffer) => got.push(d));
  r.socket.resume();
  r.socket.end('ping');
  await new Promise((res) => r.socket.on('end', res));
  assert.equal(Buffer.concat(got).toString(), 'first;ping');
});

test('no server: the connection error rejects; a connection that closes mid-body fails the body', async () => {
  await assert.rejects(exchange(net.connect(join(dir, 'none.sock')), head('GET', '/')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');

  const cut = net.createServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'));
  const cutSock = join(dir, 'cut.sock');
  await new Promise<void>((r) => cut.listen(cutSock, r));
  try {
    const r = await exchange(net.connect(cutSock), head('GET', '/'));
    await assert.rejects(text(r), /closed the connection early/);
    // a body that runs until the connection closes (no length, not chunked) is complete at the close
    const raw = net.createServer((s) => s.end('HTTP/1.0 200 OK\r\n\r\nuntil close'));
    const rawSock = join(dir, 'raw.sock');
    await new Promise<void>((res) => raw.listen(rawSock, res));
    assert.equal(await text(await exchange(net.connect(rawSock), head('GET', '/'))), 'until close');
    raw.close();
  } finally {
    cut.close();
  }
});

test('collected: the whole response in one buffer (length, chunked, 204, error status), or the cut rejects', async () => {
  const collected = async (path: string, method = 'GET', body?: Buffer) => {
    const r = await exchange(net.connect(sock), head(method, path), body, true);
    assert.ok('body' in r && Buffer.isBuffer(r.body));
    return r;
  };
  const j = await collected('/echo', 'POST', Buffer.from('hi'));
  assert.equal(j.status, 200);
  assert.equal(j.headers['x-multi'], 'a, b');
  assert.equal(JSON.parse(j.body.toString()).bytes, 2);
  assert.equal((await collected('/stream')).body.toString(), [0, 1, 2, 3, 4].map((i) => `line ${i}\n`).join(''));
  const n = await collected('/nocontent', 'DELETE');
  assert.deepEqual([n.status, n.body.length], [204, 0]);
  assert.equal((await collected('/big')).body.length, 3 << 20);
  const missing = await collected('/missing');
  assert.deepEqual([missing.status, JSON.parse(missing.body.toString()).message], [404, 'no such thing']);
  const up = await exchange(net.connect(sock), head('POST', '/attach', { Connection: 'Upgrade', Upgrade: 'tcp' }), undefined, true);
  assert.equal(up.status, 101);
  assert.ok('socket' in up);
  up.socket.destroy();

  const cut = net.createServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'));
  const cutSock = join(dir, 'cut2.sock');
  await new Promise<void>((r) => cut.listen(cutSock, r));
  try {
    await assert.rejects(exchange(net.connect(cutSock), head('GET', '/'), undefined, true), /closed the connection early/);
  } finally {
    cut.close();
  }
});
