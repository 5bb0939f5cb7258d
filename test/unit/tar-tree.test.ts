// Packing a tree through descriptors and unpacking into a directory that may hold traps: round trips keep
// content, modes, links and long names; hostile archives and planted links never write outside the destination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { InRoot } from '../../src/sys/inroot.js';
import { packTree } from '../../src/util/tar/pack-tree.js';
import { extractTree, ExtractError, type ExtractOptions } from '../../src/util/tar/extract-tree.js';
import { makeTar, type TarItem } from './_tar.js';

function sandbox(fn: (ctx: { base: string; dest: string; outside: string }) => Promise<void>) {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'tug-tartree-'));
    const dest = join(base, 'dest');
    const outside = join(base, 'outside');
    mkdirSync(dest);
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'original');
    try {
      await fn({ base, dest, outside });
      assert.deepEqual(readdirSync(outside), ['victim'], 'nothing written outside the destination');
      assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'original');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

async function pack(dir: string, name: string): Promise<Buffer> {
  const root = InRoot.open(dir);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try {
    const r = root.resolve('/', true);
    try { await packTree({ fd: r.fd, name, path: '/' }, out); } finally { closeSync(r.fd); }
  } finally { root.close(); }
  return Buffer.concat(chunks);
}

async function unpack(dest: string, tar: Buffer, o: Partial<ExtractOptions> = {}) {
  const root = InRoot.open(dest);
  try {
    return await extractTree(Readable.from([tar]), { root, dest: '/', noOverwriteDirNonDir: false, owner: 'header', ...o });
  } finally { root.close(); }
}

const items = async (list: TarItem[]) => makeTar(list);

test('a tree packs and unpacks to the same files, modes, links and times', sandbox(async ({ base, dest }) => {
  const src = join(base, 'src');
  mkdirSync(join(src, 'sub/deeper'), { recursive: true });
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  writeFileSync(join(src, 'big'), big);
  writeFileSync(join(src, 'sub/small'), 'hello', { mode: 0o640 });
  writeFileSync(join(src, 'sub/deeper/empty'), '');
  symlinkSync('../big', join(src, 'sub/lnk'));
  linkSync(join(src, 'sub/small'), join(src, 'sub/hard'));
  const long = 'n'.repeat(120);
  mkdirSync(join(src, long));
  writeFileSync(join(src, long, 'f'.repeat(200)), 'long');
  execFileSync('mkfifo', [join(src, 'fifo')]);
  const tar = await pack(src, 'top');
  // GNU tar reads it: names, types, the PAX long name
  const listing = execFileSync('tar', ['tvf', '-'], { input: tar }).toString();
  assert.match(listing, /^d.* top\/$/m);
  assert.match(listing, /^h.* top\/sub\/small link to top\/sub\/hard$|^h.* top\/sub\/hard link to top\/sub\/small$/m);
  assert.match(listing, /^p.* top\/fifo$/m);
  assert.ok(listing.includes(`top/${long}/${'f'.repeat(200)}`));
  const r = await unpack(dest, tar);
  assert.ok(r.entries >= 10);
  assert.deepEqual(readFileSync(join(dest, 'top/big')), big);
  assert.equal(readFileSync(join(dest, 'top/sub/small'), 'utf8'), 'hello');
  assert.equal(statSync(join(dest, 'top/sub/small')).mode & 0o777, 0o640);
  assert.equal(statSync(join(dest, 'top/sub/hard')).ino, statSync(join(dest, 'top/sub/small')).ino);
  assert.equal(readlinkSync(join(dest, 'top/sub/lnk')), '../big');
  assert.ok(lstatSync(join(dest, 'top/fifo')).isFIFO());
  assert.equal(readFileSync(join(dest, 'top', long, 'f'.repeat(200)), 'utf8'), 'long');
  assert.equal(Math.floor(statSync(join(dest, 'top/sub')).mtimeMs / 1000), Math.floor(statSync(join(src, 'sub')).mtimeMs / 1000));
}));

test('names that climb out are refused; absolute names land inside', sandbox(async ({ dest }) => {
  await assert.rejects(unpack(dest, await items([{ name: '../outside/x', body: 'x' }])), (e: unknown) => e instanceof ExtractError && /invalid entry name/.test(e.message));
  await assert.rejects(unpack(dest, await items([{ name: 'a/../../x', body: 'x' }])), /invalid entry name/);
  await unpack(dest, await items([{ name: '/abs/file', body: 'x' }, { name: 'a/../b', body: 'y' }]));
  assert.equal(readFileSync(join(dest, 'abs/file'), 'utf8'), 'x');
  assert.equal(readFileSync(join(dest, 'b'), 'utf8'), 'y');
}));

test('a link planted at an entry\'s name is replaced, never written through', sandbox(async ({ dest, outside }) => {
  symlinkSync(join(outside, 'victim'), join(dest, 'f'));
  symlinkSync(outside, join(dest, 'd'));
  await unpack(dest, await items([{ name: 'f', body: 'new' }, { name: 'd', type: 'directory' }, { name: 'd/x', body: 'in' }]));
  assert.equal(readFileSync(join(dest, 'f'), 'utf8'), 'new');
  assert.ok(lstatSync(join(dest, 'd')).isDirectory());
}));

test('existing links on the way resolve inside the destination, as in a chroot', sandbox(async ({ dest, outside }) => {
  symlinkSync('/', join(dest, 'root'));
  symlinkSync(outside, join(dest, 'host'));
  symlinkSync('../../../../..', join(dest, 'up'));
  await unpack(dest, await items([{ name: 'root/etc/x', body: '1' }, { name: 'up/y', body: '2' }]));
  assert.equal(readFileSync(join(dest, 'etc/x'), 'utf8'), '1');
  assert.equal(readFileSync(join(dest, 'y'), 'utf8'), '2');
  // the host path a link names does not exist inside: an error, not a write on the host
  await assert.rejects(unpack(dest, await items([{ name: 'host/victim', body: 'pwned' }])), /no such file or directory/);
}));

test('links the archive makes stay data; relative ones climbing out and outside hard links are refused', sandbox(async ({ dest }) => {
  await unpack(dest, await items([{ name: 'esc', type: 'symlink', linkname: '/' }, { name: 'esc/pwned', body: 'p' }]));
  assert.equal(readFileSync(join(dest, 'pwned'), 'utf8'), 'p');
  await assert.rejects(unpack(dest, await items([{ name: 'sl', type: 'symlink', linkname: '../../outside' }])), /invalid symlink/);
  await assert.rejects(unpack(dest, await items([{ name: 'hl', type: 'link', linkname: '../outside/victim' }])), /invalid hardlink target/);
  await unpack(dest, await items([{ name: 'orig', body: 'o' }, { name: 'hl2', type: 'link', linkname: '/orig' }]));
  assert.equal(statSync(join(dest, 'hl2')).ino, statSync(join(dest, 'orig')).ino);
}));

test('noOverwriteDirNonDir, read-only places and broken archives', sandbox(async ({ dest }) => {
  mkdirSync(join(dest, 'dir'));
  writeFileSync(join(dest, 'file'), 'f');
  const o = { noOverwriteDirNonDir: true };
  await assert.rejects(unpack(dest, await items([{ name: 'dir', body: 'x' }]), o), (e: unknown) => e instanceof ExtractError && e.kind === 'conflict' && /cannot overwrite directory "\/dir" with non-directory "\/"/.test(e.message));
  await assert.rejects(unpack(dest, await items([{ name: 'file', type: 'directory' }]), o), /cannot overwrite non-directory "\/file" with directory "\/"/);
  await assert.rejects(unpack(dest, await items([{ name: 'x', body: 'x' }]), { checkWritable: () => { throw new ExtractError('read-only'); } }), /read-only/);
  await assert.rejects(unpack(dest, Buffer.from('not a tar')), /unexpected EOF/);
  assert.deepEqual((await unpack(dest, Buffer.alloc(0))).entries, 0);
  // without the flag a directory gives way, and its links are not followed while it goes
  symlinkSync('/', join(dest, 'dir/root'));
  await unpack(dest, await items([{ name: 'dir', body: 'now a file' }]));
  assert.equal(readFileSync(join(dest, 'dir'), 'utf8'), 'now a file');
}));
