// The pieces of diff/commit/export without a daemon: tar headers (PAX for long names and binary xattrs),
// tars of a tree (types, hard links), an overlay upper dir's changes against its lower layers, and its layer
// tar unpacked again by the snapshot store (whiteouts and opaque dirs survive the round trip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { encodeHeader, padding, TAR_END } from '../../src/util/tar/header.ts';
import { treeTar, upperLayerTar } from '../../src/services/snapshots/tartree.ts';
import { overlayChanges } from '../../src/services/snapshots/diff.ts';
import { DirSnapshotStore } from '../../src/services/snapshots/store.ts';
import { lsetxattr, mkWhiteout } from '../../src/sys/libc.ts';
import { isOpaqueDir } from '../../src/sys/xattr.ts';

const isRoot = process.getuid?.() === 0;

async function read(tar: Buffer | Readable): Promise<Array<{ name: string; type: string; linkname?: string | null; body: string; pax?: Record<string, string> }>> {
  const out: Array<{ name: string; type: string; linkname?: string | null; body: string; pax?: Record<string, string> }> = [];
  const ex = extract();
  const reading = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.push({ name: e.header.name, type: e.header.type ?? 'file', linkname: e.header.linkname, body: Buffer.concat(chunks).toString(), pax: (e.header.pax ?? undefined) as Record<string, string> | undefined });
    }
  })();
  (Buffer.isBuffer(tar) ? Readable.from([tar]) : tar).pipe(ex);
  await reading;
  return out;
}

const collect = async (r: Readable) => { const c: Buffer[] = []; for await (const x of r) c.push(x as Buffer); return Buffer.concat(c); };

function withDir(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tug-commit-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

test('headers: ustar when it fits, PAX for long names, big ids and binary xattrs', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(50)}`;
  const cap = Buffer.from([0x01, 0, 0, 0x02, 0xff, 0x80, 0, 0]);
  const body = Buffer.from('hello');
  const tar = Buffer.concat([
    encodeHeader({ name: Buffer.from('short.txt'), kind: 'file', mode: 0o4755, uid: 1, gid: 2, size: body.length, mtime: 1_600_000_000 }), body, padding(body.length),
    encodeHeader({ name: Buffer.from(long), kind: 'file', mode: 0o644, uid: 3_000_000, gid: 0, size: 0, mtime: 0, xattrs: [['security.capability', cap], ['user.k', Buffer.from('v')]] }),
    TAR_END,
  ]);
  assert.equal(tar.length % 512, 0);
  const [a, b] = await read(tar);
  assert.equal(a.name, 'short.txt');
  assert.equal(a.body, 'hello');
  assert.equal(b.name, long);
  assert.equal(b.pax?.['SCHILY.xattr.user.k'], 'v');
  // byte for byte in the record, whatever a reader's string decoding makes of it
  assert.ok(tar.includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), cap, Buffer.from('\n')])));
  // the PAX record length counts itself
  const rec = /(\d+) uid=3000000\n/.exec(tar.toString('latin1'));
  assert.ok(rec && Number(rec[1]) === rec[0].length);
});

test('a tree tar: dirs, files, symlinks, hard links as links, fifos; no root entry', withDir(async (dir) => {
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub/a'), 'A');
  linkSync(join(dir, 'sub/a'), join(dir, 'z-link'));
  symlinkSync('/etc/passwd', join(dir, 'sym'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  utimesSync(join(dir, 'sub/a'), 1000, 1000);
  const entries = await read(treeTar(dir));
  assert.deepEqual(entries.map((e) => [e.name, e.type]), [['fifo', 'fifo'], ['sub/', 'directory'], ['sub/a', 'file'], ['sym', 'symlink'], ['z-link', 'link']]);
  assert.equal(entries.find((e) => e.name === 'z-link')!.linkname, 'sub/a');
  assert.equal(entries.find((e) => e.name === 'sym')!.linkname, '/etc/passwd');
  assert.equal(entries.find((e) => e.name === 'sub/a')!.body, 'A');
}));

test('an upper dir against its lowers: changes like docker, and a layer that unpacks to the same', { skip: !isRoot && 'needs root (whiteouts, trusted xattrs)' }, withDir(async (dir) => {
  const lower = join(dir, 'lower');
  const upper = join(dir, 'upper');
  for (const p of ['etc', 'bin', 'var/cache', 'usr/share']) mkdirSync(join(lower, p), { recursive: true });
  writeFileSync(join(lower, 'etc/passwd'), 'root\n');
  writeFileSync(join(lower, 'bin/ls'), 'ls');
  writeFileSync(join(lower, 'var/cache/old'), 'old');
  writeFileSync(join(lower, 'usr/share/keep'), 'k');
  for (const p of ['etc', 'bin', 'var', 'new/deep']) mkdirSync(join(upper, p), { recursive: true });
  writeFileSync(join(upper, 'etc/passwd'), 'root\nme\n');
  writeFileSync(join(upper, 'etc/hosts'), ''); // a mount stub: not a change
  mkWhiteout(join(upper, 'bin/ls'));
  lsetxattr(join(upper, 'var'), 'trusted.overlay.opaque', 'y'); // rm -rf /var; mkdir /var
  writeFileSync(join(upper, 'var/fresh'), 'f');
  writeFileSync(join(upper, 'new/deep/file'), 'n');
  // copied-up directories keep the lower ones' metadata
  for (const p of ['etc', 'bin']) { const st = lstatSync(join(lower, p)); utimesSync(join(upper, p), st.atime, st.mtime); }

  const changes = (await overlayChanges(upper, [lower])).map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
  assert.deepEqual(changes, ['C /bin', 'D /bin/ls', 'C /etc/passwd', 'A /new', 'A /new/deep', 'A /new/deep/file', 'C /var', 'D /var/cache', 'A /var/fresh']);

  const layer = await collect(upperLayerTar(upper, [lower], { entries: 0, bytes: 0 }));
  const names = (await read(layer)).map((e) => e.name);
  assert.deepEqual(names, ['bin/', 'bin/.wh.ls', 'etc/', 'etc/passwd', 'new/', 'new/deep/', 'new/deep/file', 'var/', 'var/.wh..wh..opq', 'var/fresh']);

  const store = new DirSnapshotStore(join(dir, 'snapshots'));
  const r = await store.applyLayer(undefined, Readable.from([layer]));
  const fs = store.dir(r.chainId);
  const wh = lstatSync(join(fs, 'bin/ls'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout back as overlay whiteout');
  assert.ok(isOpaqueDir(join(fs, 'var')), 'opaque again');
}));
