import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileContentStore } from '../../src/services/content/store.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function withStore(fn: (s: FileContentStore, root: string) => Promise<void>) {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'tug-content-'));
    try { await fn(new FileContentStore(root), root); } finally { rmSync(root, { recursive: true, force: true }); }
  };
}

test('ingest stores a blob under its digest', withStore(async (s) => {
  const data = Buffer.from('hello world');
  const r = await s.ingest(Readable.from([data.subarray(0, 5), data.subarray(5)]), { digest: sha(data), size: data.length });
  assert.deepEqual(r, { digest: sha(data), size: data.length });
  assert.ok(s.has(r.digest));
  assert.deepEqual(await s.read(r.digest), data);
  const chunks: Buffer[] = [];
  for await (const c of s.open(r.digest)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), data);
  await s.delete(r.digest);
  assert.equal(s.has(r.digest), false);
}));

test('digest mismatch rejects and leaves nothing behind', withStore(async (s, root) => {
  const data = Buffer.from('payload');
  const wrong = sha(Buffer.from('other'));
  await assert.rejects(s.put(data, { digest: wrong }), /digest mismatch/);
  assert.equal(s.has(wrong), false);
  assert.equal(s.has(sha(data)), false);
  assert.deepEqual(readdirSync(join(root, 'ingest')), []);
  assert.deepEqual(readdirSync(join(root, 'blobs', 'sha256')), []);
}));

test('size mismatch (too long and too short) rejects', withStore(async (s, root) => {
  await assert.rejects(s.put(Buffer.from('12345'), { size: 3 }), /size mismatch/);
  await assert.rejects(s.put(Buffer.from('12'), { size: 3 }), /size mismatch/);
  assert.deepEqual(readdirSync(join(root, 'ingest')), []);
  assert.deepEqual(readdirSync(join(root, 'blobs', 'sha256')), []);
}));

test('a failing input stream leaves nothing behind', withStore(async (s, root) => {
  const input = new Readable({ read() { this.push(Buffer.from('abc')); this.destroy(new Error('network down')); } });
  await assert.rejects(s.ingest(input), /network down/);
  assert.deepEqual(readdirSync(join(root, 'ingest')), []);
}));

test('malformed digests never become paths', withStore(async (s) => {
  assert.throws(() => s.path('sha256:../../etc/passwd'), /invalid digest/);
  assert.equal(s.has('sha256:abc'), false);
}));
