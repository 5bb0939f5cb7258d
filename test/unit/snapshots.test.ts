import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DirSnapshotStore, chainId } from '../../src/services/snapshots/store.js';
import { makeTar, type TarItem } from './_tar.js';
import { encodeHeader, padding, TAR_END } from '../../src/util/tar/header.js';
import { getXattr } from '../../src/sys/xattr.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A sandbox: `outside` is a sibling of the store root that attacks aim at; it must stay untouched. */
function sandbox(fn: (s: DirSnapshotStore, ctx: { root: string; outside: string; base: string }) => Promise<void>) {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'tug-snap-'));
    const root = join(base, 'snapshots');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'original');
    try {
      await fn(new DirSnapshotStore(root), { root, outside, base });
      assert.deepEqual(readdirSync(outside), ['victim'], 'nothing written next to the store');
      assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'original');
      assert.deepEqual(readdirSync(join(root, 'tmp')), [], 'no unpack leftovers');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

const apply = async (s: DirSnapshotStore, items: TarItem[], parent?: string) => {
  const buf = await makeTar(items);
  return { r: await s.applyLayer(parent, Readable.from([buf])), buf };
};

test('owners and modes come out exactly as the tar says, also where the umask or a setgid directory would change them', sandbox(async (s) => {
  const { r } = await apply(s, [
    { name: 'var/mail/', type: 'directory', mode: 0o2775, uid: 0, gid: 8 },
    { name: 'var/mail/root', body: 'x', mode: 0o660, uid: 0, gid: 0 },
    { name: 'var/mail/sub/', type: 'directory', mode: 0o755, uid: 0, gid: 0 },
    { name: 'var/mail/link', type: 'symlink', linkname: 'root', uid: 0, gid: 0 },
    { name: 'open/', type: 'directory', mode: 0o777 },
    { name: 'open/file', body: 'x', mode: 0o777 },
    { name: 'private/', type: 'directory', mode: 0o700 },
    { name: 'private/key', body: 'x', mode: 0o400 },
    { name: 'sticky/', type: 'directory', mode: 0o1777 },
  ]);
  const d = s.dir(r.chainId);
  const st = (p: string) => lstatSync(join(d, p));
  assert.deepEqual([st('var/mail').mode & 0o7777, st('var/mail').gid], [0o2775, 8]);
  assert.deepEqual([st('var/mail/root').mode & 0o7777, st('var/mail/root').gid], [0o660, 0], 'not the setgid directory\'s group');
  assert.deepEqual([st('var/mail/sub').mode & 0o7777, st('var/mail/sub').gid], [0o755, 0], 'no inherited setgid bit or group');
  assert.equal(st('var/mail/link').gid, 0);
  assert.equal(st('open').mode & 0o7777, 0o777, 'the umask does not apply');
  assert.equal(st('open/file').mode & 0o7777, 0o777);
  assert.equal(st('private').mode & 0o7777, 0o700);
  assert.equal(st('private/key').mode & 0o7777, 0o400);
  assert.equal(st('sticky').mode & 0o7777, 0o1777);
}));

test('unpacks files, dirs, symlinks, hardlinks, devices with their metadata', sandbox(async (s) => {
  const mtime = new Date('2020-01-02T03:04:05Z');
  const { r, buf } = await apply(s, [
    { name: './', type: 'directory', mode: 0o755 },
    { name: 'bin/', type: 'directory', mode: 0o750, uid: 7, gid: 8, mtime },
    { name: 'bin/sh', body: 'ELF', mode: 0o4755, uid: 1000, gid: 1001, mtime },
    { name: 'bin/ash', type: 'link', linkname: 'bin/sh' },
    { name: 'etc/motd', body: 'hi' },
    { name: 'lib', type: 'symlink', linkname: '/usr/lib', uid: 5, gid: 6 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
    { name: '/abs/file', body: 'rooted' },
  ]);
  assert.equal(r.diffId, sha(buf));
  assert.equal(r.chainId, r.diffId);
  assert.equal(r.size, 3 + 2 + 6);
  assert.ok(s.has(r.chainId));
  assert.equal(s.size(r.chainId), 11);
  const d = s.dir(r.chainId);
  const sh = lstatSync(join(d, 'bin/sh'));
  assert.equal(sh.mode & 0o7777, 0o4755);
  assert.equal(sh.uid, 1000);
  assert.equal(sh.gid, 1001);
  assert.equal(sh.mtime.getTime(), mtime.getTime());
  assert.equal(sh.nlink, 2);
  const bin = lstatSync(join(d, 'bin'));
  assert.equal(bin.mode & 0o7777, 0o750);
  assert.equal(bin.uid, 7);
  assert.equal(bin.mtime.getTime(), mtime.getTime(), 'dir mtime survives its children');
  assert.equal(readlinkSync(join(d, 'lib')), '/usr/lib');
  assert.equal(lstatSync(join(d, 'lib')).uid, 5);
  const nul = lstatSync(join(d, 'dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  assert.ok(lstatSync(join(d, 'dev/fifo')).isFIFO());
  assert.equal(readFileSync(join(d, 'abs/file'), 'utf8'), 'rooted', 'absolute names land inside the layer');
}));

test('chain IDs follow the OCI rule and identical layers are reused', sandbox(async (s) => {
  const { r: base } = await apply(s, [{ name: 'a', body: '1' }]);
  const { r: top } = await apply(s, [{ name: 'b', body: '2' }], base.chainId);
  assert.equal(top.chainId, sha(`${base.chainId} ${top.diffId}`));
  assert.equal(top.chainId, chainId(base.chainId, top.diffId));
  const { r: again } = await apply(s, [{ name: 'b', body: '2' }], base.chainId);
  assert.deepEqual(again, top);
  await assert.rejects(s.applyLayer(sha('nope'), Readable.from([Buffer.alloc(1024)])), /not found/);
  await s.remove(top.chainId);
  assert.equal(s.has(top.chainId), false);
}));

test('OCI whiteouts become overlay whiteouts; opaque dirs get the xattr', sandbox(async (s) => {
  const { r } = await apply(s, [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.passwd', body: '' },
    { name: 'var/cache/.wh..wh..opq', body: '' },
    { name: 'var/cache/kept', body: 'x' },
    { name: '.wh..wh.plnk', body: '' },
  ]);
  const d = s.dir(r.chainId);
  const wh = lstatSync(join(d, 'etc/passwd'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(existsSync(join(d, 'etc/.wh.passwd')), false);
  const xattr = execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())', join(d, 'var/cache')]).toString();
  assert.equal(xattr, 'y');
  assert.equal(readFileSync(join(d, 'var/cache/kept'), 'utf8'), 'x');
  assert.equal(existsSync(join(d, '.wh..wh.plnk')), false);
}));

// ---- attacks: each must fail (or stay inside) and leave `outside` untouched ----

test('rejects ../ names', sandbox(async (s) => {
  await assert.rejects(apply(s, [{ name: '../../outside/victim', body: 'pwned' }]), /escapes/);
  await assert.rejects(apply(s, [{ name: 'a/../../../outside/new', body: 'pwned' }]), /escapes/);
}));

test('absolute names cannot reach the host', sandbox(async (s, { outside }) => {
  const { r } = await apply(s, [{ name: join(outside, 'victim'), body: 'pwned' }]);
  assert.equal(readFileSync(join(s.dir(r.chainId), outside, 'victim'), 'utf8'), 'pwned');
}));

test('refuses to write through a symlink planted by the same tar', sandbox(async (s, { outside }) => {
  await assert.rejects(apply(s, [
    { name: 'evil', type: 'symlink', linkname: outside },
    { name: 'evil/victim', body: 'pwned' },
  ]), /symlink/);
  await assert.rejects(apply(s, [
    { name: 'evil', type: 'symlink', linkname: '../../outside' },
    { name: 'evil/new', body: 'pwned' },
  ]), /symlink/);
  // A symlink replaced by a file must not write to its target either.
  const { r } = await apply(s, [
    { name: 'f', type: 'symlink', linkname: join(outside, 'victim') },
    { name: 'f', body: 'replaced' },
  ]);
  assert.equal(readFileSync(join(s.dir(r.chainId), 'f'), 'utf8'), 'replaced');
}));

test('refuses hardlinks outside the layer', sandbox(async (s, { outside }) => {
  await assert.rejects(apply(s, [{ name: 'h', type: 'link', linkname: '../../outside/victim' }]), /escapes/);
  await assert.rejects(apply(s, [{ name: 'h', type: 'link', linkname: join(outside, 'victim') }]), /not in layer/);
  await assert.rejects(apply(s, [
    { name: 'l', type: 'symlink', linkname: outside },
    { name: 'h', type: 'link', linkname: 'l/victim' },
  ]), /symlink/);
}));

test('refuses whiteouts that climb out', sandbox(async (s) => {
  await assert.rejects(apply(s, [{ name: '../outside/.wh.victim', body: '' }]), /escapes/);
  await assert.rejects(apply(s, [{ name: 'a/.wh...', body: '' }]), /invalid whiteout/);
}));

test('more breakout cases: hardlink to an escaping symlink, directory over a symlink, whiteouts through symlinks', sandbox(async (s, { outside }) => {
  // a hardlink to a symlink links the symlink itself (link(2) does not follow): the host file stays out of reach
  const { r } = await apply(s, [
    { name: 's', type: 'symlink', linkname: join(outside, 'victim') },
    { name: 'h', type: 'link', linkname: 's' },
  ]);
  assert.ok(lstatSync(join(s.dir(r.chainId), 'h')).isSymbolicLink());
  // a directory entry over a symlink replaces the symlink; nothing lands at its target
  const { r: r2 } = await apply(s, [
    { name: 'd', type: 'symlink', linkname: outside },
    { name: 'd', type: 'directory' },
    { name: 'd/new', body: 'inside' },
  ]);
  assert.equal(readFileSync(join(s.dir(r2.chainId), 'd', 'new'), 'utf8'), 'inside');
  // whiteouts through a symlink, a dead symlink, or with a relative climb are refused
  await assert.rejects(apply(s, [{ name: 'w', type: 'symlink', linkname: outside }, { name: 'w/.wh.victim', body: '' }]), /symlink/);
  await assert.rejects(apply(s, [{ name: 'dead', type: 'symlink', linkname: '/nonexistent/place' }, { name: 'dead/.wh.x', body: '' }]), /symlink/);
  await assert.rejects(apply(s, [{ name: 'a/../../.wh.outside', body: '' }]), /escapes/);
  await assert.rejects(apply(s, [{ name: '.wh..', body: '' }]), /invalid whiteout/);
}));

test('caps entries and bytes', async () => {
  const base = mkdtempSync(join(tmpdir(), 'tug-snap-'));
  try {
    const s = new DirSnapshotStore(base, { maxEntries: 2, maxBytes: 8192 });
    await assert.rejects(apply(s, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]), /more than 2 entries/);
    await assert.rejects(apply(s, [{ name: 'big', body: Buffer.alloc(20000) }]), /maximum size/);
    // Hit the cap in the middle of a file body, with the input arriving in small chunks.
    const big = await makeTar([{ name: 'big', body: Buffer.alloc(20000) }]);
    const chunks = Array.from({ length: Math.ceil(big.length / 1000) }, (_, i) => big.subarray(i * 1000, (i + 1) * 1000));
    await assert.rejects(s.applyLayer(undefined, Readable.from(chunks)), /maximum size/);
    // A truncated tar fails too.
    await assert.rejects(s.applyLayer(undefined, Readable.from([big.subarray(0, 3000)])));
    // A gzip bomb: 64 MiB of zeros in 64 KiB compressed is stopped at the cap, as it inflates.
    const { gzipSync } = await import('node:zlib');
    const bomb = gzipSync(await makeTar([{ name: 'zeros', body: Buffer.alloc(64 << 20) }]), { level: 9 });
    assert.ok(bomb.length < 128 << 10, `bomb of ${bomb.length} bytes`);
    await assert.rejects(s.applyLayer(undefined, Readable.from([bomb]), { compression: 'gzip' }), /maximum size/);
    assert.deepEqual(readdirSync(join(base, 'tmp')), []);
    assert.deepEqual(readdirSync(base), ['tmp']);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('extended attributes come through as bytes (file capabilities); trusted.* from a layer is not set', sandbox(async (s) => {
  // ping's cap_net_raw+ep as the kernel stores it (VFS_CAP_REVISION_2): binary, not UTF-8
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
  const long = `deep/${'n'.repeat(120)}/file`;
  const entry = (name: string, kind: 'file' | 'dir', body: string, xattrs?: Array<[string, Buffer]>) => {
    const data = Buffer.from(body);
    return [encodeHeader({ name: Buffer.from(name), kind, mode: 0o755, uid: 0, gid: 0, size: data.length, mtime: 0, xattrs }), data, padding(data.length)];
  };
  const tar = Buffer.concat([
    ...entry('bin/', 'dir', '', [['trusted.overlay.opaque', Buffer.from('y')]]),
    ...entry('bin/ping', 'file', 'ELF', [['security.capability', cap], ['user.note', Buffer.from([0xff, 0x00, 0x80])]]),
    ...entry('bin/plain', 'file', 'x'),
    ...entry(long, 'file', 'deep body', [['user.deep', Buffer.from('yes')]]),
    TAR_END,
  ]);
  const r = await s.applyLayer(undefined, Readable.from([tar]));
  const d = s.dir(r.chainId);
  assert.deepEqual(getXattr(join(d, 'bin/ping'), 'security.capability'), cap);
  assert.deepEqual(getXattr(join(d, 'bin/ping'), 'user.note'), Buffer.from([0xff, 0x00, 0x80]));
  assert.equal(getXattr(join(d, 'bin/plain'), 'user.note'), undefined);
  assert.deepEqual(getXattr(join(d, long), 'user.deep'), Buffer.from('yes'));
  assert.equal(getXattr(join(d, 'bin'), 'trusted.overlay.opaque'), undefined);
  assert.equal(readFileSync(join(d, long), 'utf8'), 'deep body');
}));

test('a compressed layer is inflated where it is unpacked; layers unpack side by side; a broken stream fails with its own error and leaves the workers usable', sandbox(async (s) => {
  const { gzipSync } = await import('node:zlib');
  // several MiB, so that the stream is paused and resumed on the way to the worker
  const big = Buffer.alloc(12 << 20, 7);
  const tars = await Promise.all([0, 1, 2].map((i) => makeTar([{ name: `f${i}`, body: big }, { name: `d${i}/x`, body: String(i) }])));
  const results = await Promise.all(tars.map((t, i) => s.applyLayer(undefined, Readable.from([gzipSync(t)]), { expectDiffId: sha(t), compression: 'gzip' }).then((r) => ({ r, i }))));
  for (const { r, i } of results) {
    assert.equal(r.diffId, sha(tars[i]));
    assert.equal(readFileSync(join(s.dir(r.chainId), `d${i}/x`), 'utf8'), String(i));
    assert.equal(lstatSync(join(s.dir(r.chainId), `f${i}`)).size, big.length);
  }
  const broken = new Readable({ read() {} });
  broken.push(gzipSync(tars[0]).subarray(0, 1 << 16));
  setTimeout(() => broken.destroy(new Error('the registry hung up')), 50);
  await assert.rejects(s.applyLayer(undefined, broken, { compression: 'gzip' }), /the registry hung up/);
  await assert.rejects(s.applyLayer(undefined, Readable.from([Buffer.from('not gzip at all')]), { compression: 'gzip' }), /incorrect header check/);
  const again = await makeTar([{ name: 'after', body: 'ok' }]);
  const r = await s.applyLayer(undefined, Readable.from([again]));
  assert.equal(readFileSync(join(s.dir(r.chainId), 'after'), 'utf8'), 'ok');
}));
