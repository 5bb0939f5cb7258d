import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { FileContentStore } from '../../src/services/content/store.js';
import { DirSnapshotStore } from '../../src/services/snapshots/store.js';
import { LocalImageService } from '../../src/services/images/store.js';
import { makeTar } from './_tar.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const none = () => undefined;

interface Env { base: string; content: FileContentStore; snapshots: DirSnapshotStore; images: LocalImageService; reopen(): Promise<LocalImageService> }

function withEnv(fn: (e: Env) => Promise<void>) {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'tug-images-'));
    try {
      const content = new FileContentStore(join(base, 'content'));
      const snapshots = new DirSnapshotStore(join(base, 'snapshots'));
      const make = async () => {
        const s = new LocalImageService({ root: join(base, 'images'), content, snapshots });
        await s.load();
        return s;
      };
      await fn({ base, content, snapshots, images: await make(), reopen: make });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

const rootfs = (marker = 'x') => makeTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/marker', body: marker }]);

test('imports a raw tar: config blob, layer blob, snapshot, tag', withEnv(async ({ content, snapshots, images }) => {
  const tar = await rootfs();
  const img = await images.importTar(Readable.from([tar]), { reference: 'myimg', changes: ['CMD ["/bin/sh"]', 'ENV A=1'], message: 'hello' });
  assert.deepEqual(img.repoTags, ['myimg:latest']);
  assert.equal(img.config.architecture, 'amd64');
  assert.equal(img.config.os, 'linux');
  assert.equal(img.config.comment, 'hello');
  assert.deepEqual(img.config.config.Cmd, ['/bin/sh']);
  assert.deepEqual(img.config.config.Env, ['A=1']);
  assert.deepEqual(img.config.rootfs.diff_ids, [sha(tar)]);
  assert.equal(img.config.history?.[0].comment, 'hello');
  assert.equal(img.id, sha(await content.read(img.id)), 'image ID is the config digest');
  assert.ok(content.has(sha(tar)), 'uncompressed layer kept as a blob');
  assert.deepEqual(img.chainIds, [sha(tar)]);
  assert.equal(img.size, 1);
  assert.deepEqual(images.lowerDirs(img), [snapshots.dir(sha(tar))]);
  assert.equal(readFileSync(join(images.lowerDirs(img)[0], 'bin/marker'), 'utf8'), 'x');
}));

test('imports gzip and xz archives; default comment like docker', withEnv(async ({ images }) => {
  const tar = await rootfs('gz');
  const a = await images.importTar(Readable.from([gzipSync(tar)]), {});
  assert.deepEqual(a.config.rootfs.diff_ids, [sha(tar)]);
  assert.equal(a.config.history?.[0].comment, 'Imported from -');
  assert.deepEqual(a.repoTags, []);
  const xz = execFileSync('xz', ['-c'], { input: await rootfs('xz') });
  const b = await images.importTar(Readable.from([xz]), { reference: 'x:1' });
  assert.equal(readFileSync(join(images.lowerDirs(b)[0], 'bin/marker'), 'utf8'), 'xz');
}));

test('bad archives are 400 and leave no blobs or snapshots', withEnv(async ({ base, images }) => {
  const tar = await rootfs();
  const cases: Buffer[] = [Buffer.alloc(0), gzipSync(tar).subarray(0, 40), Buffer.from('this is not a tar archive at all'.repeat(40)), Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100)])];
  for (const body of cases) {
    await assert.rejects(images.importTar(Readable.from([body]), {}), (e: Error & { status?: number }) => e.status === 400, `len ${body.length}`);
  }
  await assert.rejects(images.importTar(Readable.from([tar]), { changes: ['RUN x'] }), /not a valid change command/);
  await assert.rejects(images.importTar(Readable.from([tar]), { reference: 'Bad Name' }), /invalid reference format/);
  await assert.rejects(images.importTar(Readable.from([await makeTar([{ name: '../evil', body: 'x' }])]), {}), (e: Error & { status?: number }) => e.status === 400 && /escapes/.test(e.message));
  assert.deepEqual(readdirSync(join(base, 'content', 'blobs', 'sha256')), []);
  assert.deepEqual(readdirSync(join(base, 'snapshots')), ['tmp']);
  assert.equal(images.list().length, 0);
}));

test('resolve by name, tag, ID, sha256: ID, short prefix, name@digest', withEnv(async ({ images }) => {
  const img = await images.importTar(Readable.from([await rootfs()]), { reference: 'busybox' });
  const hex = img.id.slice(7);
  for (const r of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', img.id, hex, hex.slice(0, 12), `sha256:${hex.slice(0, 5)}`]) {
    assert.equal(images.resolve(r)?.id, img.id, r);
  }
  assert.equal(images.resolve('busybox:other'), undefined);
  assert.equal(images.resolve('nope'), undefined);
  const digest = sha('manifest');
  await images.addRepoDigest('busybox', digest, img.id);
  assert.equal(images.resolve(`busybox@${digest}`)?.id, img.id);
  assert.deepEqual(images.resolve('busybox')?.repoDigests, [`busybox@${digest}`]);
}));

test('tag and persisted state survive a reload', withEnv(async ({ images, reopen }) => {
  const img = await images.importTar(Readable.from([await rootfs()]), { reference: 'a:1' });
  await images.tag('a:1', 'localhost:5000/team/b:v2');
  await images.tag(img.id.slice(7, 19), 'c');
  await assert.rejects(images.tag('missing', 'x'), /No such image: missing/);
  await assert.rejects(images.tag('a:1', `x@${sha('d')}`), /digest reference/);
  await assert.rejects(images.tag('a:1', 'UPPER'), /invalid reference format/);
  const again = await reopen();
  const r = again.resolve('c:latest');
  assert.ok(r);
  assert.deepEqual(r.repoTags.sort(), ['a:1', 'c:latest', 'localhost:5000/team/b:v2']);
  assert.equal(r.size, img.size);
  assert.deepEqual(r.config, img.config);
}));

test('rmi by name untags until the last tag, then deletes layers and blobs', withEnv(async ({ base, images, snapshots, content }) => {
  const tar = await rootfs();
  const img = await images.importTar(Readable.from([tar]), { reference: 'a' });
  await images.tag('a', 'b:2');
  assert.deepEqual(await images.remove('a', { force: false, noprune: false }, none), [{ Untagged: 'a:latest' }]);
  assert.ok(images.resolve(img.id));
  assert.deepEqual(await images.remove('b:2', { force: false, noprune: false }, none), [{ Untagged: 'b:2' }, { Deleted: img.id }]);
  assert.equal(images.resolve(img.id), undefined);
  assert.equal(snapshots.has(sha(tar)), false);
  assert.equal(content.has(sha(tar)), false);
  assert.equal(content.has(img.id), false);
  assert.deepEqual(readdirSync(join(base, 'images', 'meta')), []);
  await assert.rejects(images.remove('a', { force: false, noprune: false }, none), (e: Error & { status?: number }) => e.status === 404 && e.message === 'No such image: a:latest');
}));

test('rmi by ID: multiple repositories need force', withEnv(async ({ images }) => {
  const img = await images.importTar(Readable.from([await rootfs()]), { reference: 'a' });
  await images.tag('a', 'b');
  const short = img.id.slice(7, 19);
  await assert.rejects(images.remove(short, { force: false, noprune: false }, none),
    (e: Error & { status?: number }) => e.status === 409 && e.message === `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
  const res = await images.remove(short, { force: true, noprune: false }, none);
  assert.deepEqual(res, [{ Untagged: 'a:latest' }, { Untagged: 'b:latest' }, { Deleted: img.id }]);
}));

test('rmi refuses an image a container uses unless forced; forced keeps it dangling', withEnv(async ({ images }) => {
  const img = await images.importTar(Readable.from([await rootfs()]), { reference: 'a' });
  const cid = 'c'.repeat(64);
  const user = (id: string) => (id === img.id ? cid : undefined);
  await assert.rejects(images.remove('a', { force: false, noprune: false }, user),
    (e: Error & { status?: number }) => e.status === 409 && e.message === `conflict: unable to remove repository reference "a" (must force) - container cccccccccccc is using its referenced image ${img.id.slice(7, 19)}`);
  await assert.rejects(images.remove(img.id, { force: false, noprune: false }, user), /being used by stopped container cccccccccccc/);
  assert.deepEqual(await images.remove('a', { force: true, noprune: false }, user), [{ Untagged: 'a:latest' }]);
  const kept = images.resolve(img.id);
  assert.ok(kept);
  assert.deepEqual(kept.repoTags, []);
  assert.deepEqual(await images.remove(img.id, { force: false, noprune: false }, none), [{ Deleted: img.id }]);
}));

test('layers shared by two images stay until both are gone', withEnv(async ({ images, snapshots }) => {
  const tar = await rootfs('same');
  const a = await images.importTar(Readable.from([tar]), { reference: 'a', message: 'one' });
  const b = await images.importTar(Readable.from([tar]), { reference: 'b', message: 'two' });
  assert.notEqual(a.id, b.id);
  await images.remove('a', { force: false, noprune: false }, none);
  assert.ok(snapshots.has(sha(tar)));
  assert.deepEqual(images.lowerDirs(images.resolve('b')!), [snapshots.dir(sha(tar))]);
  await images.remove('b', { force: false, noprune: false }, none);
  assert.equal(snapshots.has(sha(tar)), false);
  assert.equal(images.resolve(b.id), undefined);
}));
