// The build context as the daemon indexes it: paths resolved inside it, symlinks and `..` that lead out refused,
// COPY wildcards, content hashes that ignore mtimes, and tars of chosen entries under new names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { BuildContext, ContextError } from '../../src/services/build/context.ts';
import { destinationPath } from '../../src/services/build/copy.ts';
import { makeTar, readTar, type TarItem } from './_tar.ts';

async function context(items: TarItem[], gzip = false): Promise<{ ctx: BuildContext; done(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tug-ctx-'));
  const tar = await makeTar(items);
  const ctx = await BuildContext.receive(Readable.from([gzip ? gzipSync(tar) : tar]), join(dir, 'c'));
  return { ctx, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const FILES: TarItem[] = [
  { name: 'Dockerfile', body: 'FROM busybox\n' },
  { name: 'src/', type: 'directory' },
  { name: 'src/a.txt', body: 'a' },
  { name: 'src/b.txt', body: 'b' },
  { name: 'src/deep/c.md', body: 'c' },
  { name: 'link-in', type: 'symlink', linkname: 'src/a.txt' },
  { name: 'dirlink', type: 'symlink', linkname: 'src' },
  { name: 'link-abs', type: 'symlink', linkname: '/etc/passwd' },
  { name: 'link-up', type: 'symlink', linkname: '../../etc/passwd' },
  { name: 'hard', type: 'link', linkname: 'src/a.txt' },
];

test('paths resolve inside the context; symlinks inside are followed, ones leading out refused', async () => {
  const { ctx, done } = await context(FILES);
  try {
    assert.equal(ctx.resolve('./src/../src/a.txt'), 'src/a.txt');
    assert.equal(ctx.resolve('link-in'), 'src/a.txt');
    assert.equal(ctx.resolve('dirlink/deep/c.md'), 'src/deep/c.md');
    assert.equal(ctx.resolve('.'), '');
    assert.equal(ctx.resolve('missing'), undefined);
    assert.throws(() => ctx.resolve('../x'), (e: Error) => e instanceof ContextError && /forbidden path outside the build context: \.\.\/x/.test(e.message));
    assert.throws(() => ctx.resolve('link-abs'), /forbidden path outside the build context: link-abs \(\/etc\/passwd\)/);
    assert.throws(() => ctx.resolve('link-up'), /forbidden path outside the build context/);
    // a hard link carries its target's body
    assert.equal((await ctx.readFile('hard')).toString(), 'a');
  } finally { done(); }
});

test('COPY wildcards match within one path element, sorted', async () => {
  const { ctx, done } = await context(FILES);
  try {
    assert.deepEqual(ctx.glob('src/*.txt'), ['src/a.txt', 'src/b.txt']);
    assert.deepEqual(ctx.glob('src/?.txt'), ['src/a.txt', 'src/b.txt']);
    assert.deepEqual(ctx.glob('src/[a].txt'), ['src/a.txt']);
    assert.deepEqual(ctx.glob('*.md'), []);
    assert.deepEqual(ctx.glob('src/*/*.md'), ['src/deep/c.md']);
  } finally { done(); }
});

test('content hashes follow content and modes, not mtimes; a gzip context reads the same', async () => {
  const a = await context([{ name: 'd/f', body: 'x', mtime: new Date(1000) }]);
  const b = await context([{ name: 'd/f', body: 'x', mtime: new Date(999999000) }], true);
  const c = await context([{ name: 'd/f', body: 'y' }]);
  const m = await context([{ name: 'd/f', body: 'x', mode: 0o755 }]);
  try {
    assert.equal(a.ctx.hashOf('d'), b.ctx.hashOf('d'));
    assert.notEqual(a.ctx.hashOf('d'), c.ctx.hashOf('d'));
    assert.notEqual(a.ctx.hashOf('d'), m.ctx.hashOf('d'));
  } finally { a.done(); b.done(); c.done(); m.done(); }
});

test('a tar of chosen entries carries the new names, owner and --chmod', async () => {
  const { ctx, done } = await context(FILES);
  try {
    const items = [...ctx.walk('src')].filter((e) => e.name !== 'src').map((e) => ({ entry: e, as: `app/${e.name.slice(4)}` }));
    const seen = await readTar(ctx.tar(items, { uid: 1000, gid: 1000 }, 0o600));
    assert.deepEqual(seen.map((s) => s.name), ['app/a.txt', 'app/b.txt', 'app/deep/', 'app/deep/c.md']);
    const a = seen.find((s) => s.name === 'app/a.txt')!;
    assert.equal(a.body, 'a');
    assert.equal(a.uid, 1000);
    assert.equal(a.mode, 0o600);
  } finally { done(); }
});

test('COPY bodies come out right whatever the order they are asked in, across read-ahead windows and large files', async () => {
  // many small files (read ahead in windows), then one larger than a window (read in chunks), then more small ones
  const big = 'x'.repeat((1 << 20) + 12345);
  const files: TarItem[] = [
    ...Array.from({ length: 300 }, (_, i) => ({ name: `s/f${String(i).padStart(3, '0')}`, body: `body ${i} `.repeat(1 + (i % 40)) })),
    { name: 's/zbig', body: big },
    ...Array.from({ length: 5 }, (_, i) => ({ name: `s/zz${i}`, body: `tail ${i}` })),
  ];
  const { ctx, done } = await context(files);
  try {
    const entries = [...ctx.walk('s')].filter((e) => e.kind === 'file');
    for (const order of [entries, [...entries].reverse(), entries.filter((_, i) => i % 3 === 0).concat(entries.filter((_, i) => i % 3 !== 0))]) {
      const got = await readTar(ctx.tar(order.map((e) => ({ entry: e, as: e.name })), { uid: 0, gid: 0 }));
      assert.deepEqual(got.map((g) => g.name), order.map((e) => e.name));
      const want = new Map(files.map((f) => [f.name, String(f.body)]));
      for (const g of got) assert.equal(g.body, want.get(g.name), g.name);
    }
  } finally { done(); }
});

test('an entry climbing out of the context is refused; an empty body is an empty context', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tug-ctx-'));
  try {
    const bad = await makeTar([{ name: '../escape', body: 'x' }]);
    await assert.rejects(BuildContext.receive(Readable.from([bad]), join(dir, 'a')), /outside the context/);
    const empty = await BuildContext.receive(Readable.from([]), join(dir, 'b'));
    assert.equal(empty.size, 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('COPY destinations: relative to WORKDIR, a trailing slash kept', () => {
  assert.equal(destinationPath('.', '/app'), '/app/');
  assert.equal(destinationPath('x', '/app'), '/app/x');
  assert.equal(destinationPath('x/', undefined), '/x/');
  assert.equal(destinationPath('/etc/nginx/../x', '/app'), '/etc/x');
});
