import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { RegistryClient } from '../../src/services/registry/client.js';

async function listen(s: Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
}

const collect = async (stream: AsyncIterable<Buffer>) => { const c: Buffer[] = []; for await (const b of stream) c.push(b); return Buffer.concat(c); };

test('blobs: a bearer challenge answered, a redirect to storage elsewhere followed without the credentials, errors as the registry words them', async () => {
  const seen: Array<{ where: string; url: string; headers: IncomingHttpHeaders }> = [];
  const blob = Buffer.alloc(3 << 20, 9);
  const storage = createServer((req, res) => {
    seen.push({ where: 'storage', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'Content-Length': blob.length });
    res.end(blob);
  });
  const storageUrl = await listen(storage);
  let registryUrl = '';
  const registry = createServer((req, res) => {
    seen.push({ where: 'registry', url: req.url ?? '', headers: req.headers });
    if (req.url?.startsWith('/token')) { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"token":"T0K"}'); return; }
    if (req.headers.authorization !== 'Bearer T0K') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${registryUrl}/token",service="test"` });
      res.end();
      return;
    }
    if (req.url === '/v2/a/b/blobs/sha256:present') { res.writeHead(307, { Location: `${storageUrl}/signed?x=1` }); res.end(); return; }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
  });
  registryUrl = await listen(registry);
  try {
    const client = new RegistryClient(registryUrl, 'a/b', undefined);
    // the first download answers the challenge; the second one, with the token held, streams at once
    for (let i = 0; i < 2; i++) {
      const { stream, length } = await client.getBlob('sha256:present');
      assert.equal(length, blob.length);
      assert.ok((await collect(stream)).equals(blob));
    }
    const stored = seen.filter((s) => s.where === 'storage');
    assert.equal(stored.length, 2);
    for (const s of stored) {
      assert.equal(s.url, '/signed?x=1');
      assert.equal(s.headers.authorization, undefined, 'the storage host never sees the registry token');
    }
    assert.equal(seen.filter((s) => s.where === 'registry' && s.url.startsWith('/token')).length, 1, 'one token, fetched once');
    await assert.rejects(client.getBlob('sha256:absent'), (e: Error & { status?: number }) => e.status === 404 && /blob unknown to registry/.test(e.message));
  } finally {
    registry.close();
    storage.close();
  }
});
