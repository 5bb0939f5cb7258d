// The in-root resolver: every symlink and ".." stays inside the root (and crosses mounts into their sources),
// whatever the links say; what it returns is a descriptor of the inode reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { at, InRoot, InRootError, removeAt } from '../../src/sys/inroot.js';

/** A root with a sibling `outside` holding what an escape would reach. */
function sandbox(fn: (ctx: { root: string; outside: string; base: string }) => void) {
  return () => {
    const base = mkdtempSync(join(tmpdir(), 'tug-inroot-'));
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'a/b/c'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'etc/passwd'), 'inside');
    writeFileSync(join(outside, 'secret'), 'outside');
    try { fn({ root, outside, base }); } finally { rmSync(base, { recursive: true, force: true }); }
  };
}

/** Resolves and reads the file reached, through its descriptor. */
function read(r: InRoot, path: string): string {
  const x = r.resolve(path, true);
  try { return readFileSync(at(x.fd)).toString(); } finally { closeSync(x.fd); }
}

function resolved(r: InRoot, path: string, follow = true): string {
  const x = r.resolve(path, follow);
  closeSync(x.fd);
  return x.path;
}

test('absolute symlinks resolve from the root, not from the host', sandbox(({ root, outside }) => {
  symlinkSync('/', join(root, 'toroot'));
  symlinkSync('/etc/passwd', join(root, 'pw'));
  symlinkSync(outside, join(root, 'host'));
  const r = InRoot.open(root);
  try {
    assert.equal(read(r, '/toroot/etc/passwd'), 'inside');
    assert.equal(read(r, '/pw'), 'inside');
    assert.equal(resolved(r, '/toroot/toroot/etc'), '/etc');
    // a link naming a host path names that path inside the root, where it does not exist
    assert.throws(() => r.resolve('/host/secret', true), (e: unknown) => e instanceof InRootError && e.code === 'ENOENT');
  } finally { r.close(); }
}));

test('".." never climbs above the root, in paths or link targets', sandbox(({ root }) => {
  symlinkSync('../../../../..', join(root, 'a/b/c/up'));
  symlinkSync('../../../../../etc/passwd', join(root, 'a/b/pw'));
  const r = InRoot.open(root);
  try {
    assert.equal(resolved(r, '/../../..'), '/');
    assert.equal(read(r, '/../../etc/passwd'), 'inside');
    assert.equal(resolved(r, '/a/b/c/up'), '/');
    assert.equal(read(r, '/a/b/c/up/etc/passwd'), 'inside');
    assert.equal(read(r, '/a/b/pw'), 'inside');
    assert.equal(read(r, 'a/b/c/../../../etc/passwd'), 'inside');
  } finally { r.close(); }
}));

test('a final symlink is followed only when asked, or when a trailing "/" asks for a directory', sandbox(({ root }) => {
  symlinkSync('a/b', join(root, 'lnk'));
  symlinkSync('etc/passwd', join(root, 'flnk'));
  const r = InRoot.open(root);
  try {
    const x = r.resolve('/lnk', false);
    assert.ok(x.stat.isSymbolicLink());
    assert.equal(x.path, '/lnk');
    closeSync(x.fd);
    assert.equal(resolved(r, '/lnk', true), '/a/b');
    assert.equal(resolved(r, '/lnk/', false), '/a/b');
    assert.equal(resolved(r, '/lnk/.', false), '/a/b');
    assert.throws(() => r.resolve('/flnk/', false), (e: unknown) => e instanceof InRootError && e.code === 'ENOTDIR');
    assert.throws(() => r.resolve('/etc/passwd/x', false), (e: unknown) => e instanceof InRootError && e.code === 'ENOTDIR');
  } finally { r.close(); }
}));

test('link loops end with ELOOP; dangling links resolve as far as they exist', sandbox(({ root }) => {
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  symlinkSync('/a/missing/deeper', join(root, 'dangling'));
  const r = InRoot.open(root);
  try {
    assert.throws(() => r.resolve('/loop1', true), (e: unknown) => e instanceof InRootError && e.code === 'ELOOP');
    assert.equal(r.resolvePath('/dangling'), '/a/missing/deeper');
    assert.equal(r.resolvePath('/a/b/../../dangling'), '/a/missing/deeper');
    assert.equal(r.readlink('/dangling').toString(), '/a/missing/deeper');
  } finally { r.close(); }
}));

test('mounts are crossed into their sources; their links and ".." still resolve in the root', sandbox(({ root, base }) => {
  const vol = join(base, 'vol');
  mkdirSync(join(vol, 'sub'), { recursive: true });
  writeFileSync(join(vol, 'data'), 'in volume');
  symlinkSync('/etc/passwd', join(vol, 'abs'));
  symlinkSync('../../../..', join(vol, 'sub/up'));
  const r = InRoot.open(root, [{ destination: '/mnt/vol', source: vol, rw: false }]);
  mkdirSync(join(root, 'mnt/vol'), { recursive: true });
  symlinkSync('/mnt/vol', join(root, 'vlink'));
  try {
    assert.equal(read(r, '/mnt/vol/data'), 'in volume');
    assert.equal(read(r, '/vlink/data'), 'in volume');
    assert.equal(read(r, '/mnt/vol/abs'), 'inside');
    assert.equal(resolved(r, '/mnt/vol/sub/up'), '/');
    assert.equal(resolved(r, '/mnt/vol/..'), '/mnt');
    const x = r.resolve('/mnt/vol/sub', true);
    assert.equal(x.mount?.source, vol);
    assert.equal(x.mount?.rw, false);
    closeSync(x.fd);
    const y = r.resolve('/a', true);
    assert.equal(y.mount, undefined);
    closeSync(y.fd);
  } finally { r.close(); }
}));

test('readFile reads through the descriptor, and only regular files', sandbox(({ root, outside }) => {
  symlinkSync(join(outside, 'secret'), join(root, 'etc/group'));
  const r = InRoot.open(root);
  try {
    assert.equal(r.readFile('/etc/passwd')?.toString(), 'inside');
    assert.equal(r.readFile('/etc/group'), undefined);
    assert.equal(r.readFile('/etc'), undefined);
  } finally { r.close(); }
}));

test('removeAt removes a tree without following the links in it', sandbox(({ root, outside }) => {
  symlinkSync(outside, join(root, 'a/b/c/out'));
  symlinkSync('/', join(root, 'a/b/root'));
  const r = InRoot.open(root);
  try {
    removeAt(r.rootFd, 'a');
    assert.deepEqual(readdirSync(root).sort(), ['etc']);
    assert.deepEqual(readdirSync(outside), ['secret']);
    removeAt(r.rootFd, 'missing');
  } finally { r.close(); }
}));
