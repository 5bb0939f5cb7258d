import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { collectGarbage } from '../../src/registry/gc.js';
import { lockRoot } from '../../src/registry/lock.js';
import { parseManifest } from '../../src/registry/manifests.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { Uploads } from '../../src/registry/uploads.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const desc = (b: string, mediaType = 'application/vnd.oci.image.layer.v1.tar') => ({ mediaType, digest: sha(b), size: b.length });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function withRoot(fn: (root: string, s: RegistryStorage) => Promise<void>) {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'tug-registry-unit-'));
    try { await fn(root, new RegistryStorage(root)); } finally { rmSync(root, { recursive: true, force: true }); }
  };
}

test('manifests: image and index kinds, what they refer to, and what the referrers API shows', () => {
  const image = parseManifest(json({ schemaVersion: 2, mediaType: OCI, config: desc('cfg', 'application/vnd.oci.image.config.v1+json'), layers: [desc('l1'), { ...desc('far', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'), urls: ['https://x/far'] }], subject: desc('s', OCI), annotations: { a: 'b' } }));
  assert.equal(image.kind, 'image');
  assert.deepEqual(image.blobs.map((b) => b.digest), [sha('cfg'), sha('l1')], 'a foreign layer need not be in the registry');
  assert.equal(image.subject?.digest, sha('s'));
  assert.equal(image.artifactType, 'application/vnd.oci.image.config.v1+json');
  assert.deepEqual(image.annotations, { a: 'b' });

  const index = parseManifest(json({ schemaVersion: 2, manifests: [desc('m', OCI)], artifactType: 'application/x' }), 'application/vnd.oci.image.index.v1+json');
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(index.manifests.map((m) => m.digest), [sha('m')]);
  assert.equal(index.artifactType, 'application/x');
  assert.equal(parseManifest(json({ schemaVersion: 2, config: desc('c'), layers: [] })).mediaType, OCI, 'no mediaType, no Content-Type: by its shape');

  const bad: Array<[unknown, string | undefined, RegExp]> = [
    [{ schemaVersion: 1 }, undefined, /schemaVersion 1/],
    [{ schemaVersion: 2, mediaType: OCI, layers: [] }, undefined, /config is not a descriptor/],
    [{ schemaVersion: 2, mediaType: OCI, config: { ...desc('c'), digest: 'sha256:abc' }, layers: [] }, undefined, /invalid digest/],
    [{ schemaVersion: 2, mediaType: OCI, config: { ...desc('c'), size: -1 }, layers: [] }, undefined, /invalid size/],
    [{ schemaVersion: 2, mediaType: OCI, config: desc('c'), layers: [], manifests: [] }, undefined, /no manifests list/],
    [{ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [], layers: [] }, undefined, /no config or layers/],
    [{ schemaVersion: 2, mediaType: OCI, config: desc('c'), layers: [] }, 'application/vnd.docker.distribution.manifest.v2+json', /does not match Content-Type/],
    [{ schemaVersion: 2, mediaType: 'application/vnd.example', config: desc('c'), layers: [] }, undefined, /not supported/],
    [[1], undefined, /not a JSON object/],
  ];
  for (const [doc, type, why] of bad) assert.throws(() => parseManifest(json(doc), type), (e: Error & { code?: string }) => e.code === 'MANIFEST_INVALID' && why.test(e.message), JSON.stringify(doc));
  assert.throws(() => parseManifest(Buffer.from('{')), /not JSON/);
});

test('uploads: chunks in order, 416 out of order, a short body rolled back, resumed by a new server, verified on commit', withRoot(async (_root, s) => {
  const data = Buffer.from('abcdefghij'.repeat(100));
  const up = new Uploads(s);
  const { id } = await up.start('a/b');
  assert.deepEqual(await up.append('a/b', id, Readable.from([data.subarray(0, 300)]), { start: 0, end: 299 }), { id, size: 300 });
  await assert.rejects(up.append('a/b', id, Readable.from([data.subarray(0, 300)]), { start: 0, end: 299 }), (e: Error & { code?: string; status?: number; headers?: Record<string, string> }) =>
    e.code === 'RANGE_INVALID' && e.status === 416 && e.headers?.Range === '0-299');
  await assert.rejects(up.append('a/b', id, Readable.from([data.subarray(300, 350)]), { start: 300, end: 399 }), /announced 100 bytes, the body had 50/);
  assert.deepEqual(await up.state('a/b', id), { id, size: 300 });

  // a restarted server has no running hash: it reads what is on disk
  const again = new Uploads(s);
  await again.append('a/b', id, Readable.from([data.subarray(300, 600), data.subarray(600)]));
  await assert.rejects(again.state('a/b', 'not-an-id'), (e: Error & { code?: string }) => e.code === 'BLOB_UPLOAD_UNKNOWN');
  assert.deepEqual(await again.commit('a/b', id, sha(data)), { digest: sha(data), size: data.length });
  assert.deepEqual(await s.readBlob(sha(data)), data);
  assert.equal(await s.repoBlobSize('a/b', sha(data)), data.length);
  assert.equal(await s.repoBlobSize('c', sha(data)), undefined, 'only the repository that uploaded it sees it');
  await assert.rejects(again.state('a/b', id), /blob upload unknown/);

  const wrong = await up.start('a/b');
  await up.append('a/b', wrong.id, Readable.from([Buffer.from('xyz')]));
  await assert.rejects(up.commit('a/b', wrong.id, sha('abc')), (e: Error & { code?: string }) => e.code === 'DIGEST_INVALID');
  await assert.rejects(up.state('a/b', wrong.id), /blob upload unknown/);
  assert.equal(await s.blobSize(sha('xyz')), undefined);
  assert.deepEqual(readdirSync(join(s.repoDir('a/b'), '_uploads')), []);
}));

test('storage: tags, manifests, referrers and repositories as a server restarted on the same root sees them', withRoot(async (root, s) => {
  await s.putBlob(Buffer.from('m'), sha('m'));
  await s.linkManifest('x/y', sha('m'));
  await s.setTag('x/y', 'v2', sha('m'));
  await s.setTag('x/y', 'v1', sha('m'));
  await s.linkReferrer('x/y', sha('subject'), sha('m'));
  await s.linkBlob('x/z/w', sha('m'));
  const t = new RegistryStorage(root);
  assert.deepEqual(await t.repositories(), ['x/y', 'x/z/w']);
  assert.deepEqual((await t.tags('x/y')).map((x) => [x.tag, x.digest]), [['v1', sha('m')], ['v2', sha('m')]]);
  assert.deepEqual(await t.referrers('x/y', sha('subject')), [sha('m')]);
  assert.equal(await t.exists('x'), false);
  assert.ok(await t.hasManifest('x/y', sha('m')));
  assert.equal(await t.hasManifest('x/z/w', sha('m')), false);
  assert.ok(await t.deleteTag('x/y', 'v1'));
  assert.equal(await t.deleteTag('x/y', 'v1'), false);
  assert.throws(() => t.repoDir('../etc'), /not a repository name/);
}));

test('gc keeps what manifests refer to, deletes the rest and the links to it', withRoot(async (_root, s) => {
  const put = async (repo: string, b: string | Buffer) => { const d = sha(b); await s.putBlob(Buffer.from(b), d); await s.linkBlob(repo, d); return d; };
  const cfg = await put('a', 'config');
  const layer = await put('a', 'layer');
  const orphan = await put('a', 'orphan');
  await put('b', 'layer');
  const manifest = json({ schemaVersion: 2, mediaType: OCI, config: desc('config', 'application/vnd.oci.image.config.v1+json'), layers: [desc('layer')] });
  await s.putBlob(manifest, sha(manifest));
  await s.linkManifest('a', sha(manifest));
  const index = json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ ...desc('x', OCI), digest: sha(manifest), size: manifest.length }] });
  await s.putBlob(index, sha(index));
  await s.linkManifest('b', sha(index));

  const lines: string[] = [];
  const dry = await collectGarbage(s, { dryRun: true, print: (l) => lines.push(l) });
  assert.deepEqual(dry.removed.map((b) => b.digest), [orphan]);
  assert.deepEqual(lines, [`would delete blob ${orphan} (6 bytes)`]);
  assert.equal(await s.blobSize(orphan), 6);

  const real = await collectGarbage(s);
  assert.deepEqual(real.removed.map((b) => b.digest), [orphan]);
  assert.equal(real.kept, 4);
  assert.equal(await s.blobSize(orphan), undefined);
  assert.deepEqual((await s.linkedBlobs('a')).sort(), [cfg, layer].sort());
  assert.deepEqual((await collectGarbage(s)).removed, []);
}));

test('the root lock: one holder at a time, taken over from a holder that is gone', withRoot(async (root) => {
  const release = lockRoot(root, 'serve');
  assert.throws(() => lockRoot(root, 'gc'), new RegExp(`in use by registry serve \\(pid ${process.pid}\\)`));
  release();
  assert.equal(existsSync(join(root, 'registry.lock')), false);
  writeFileSync(join(root, 'registry.lock'), JSON.stringify({ pid: 999999999, started: '1', what: 'serve' }));
  const again = lockRoot(root, 'gc');
  again();
}));
