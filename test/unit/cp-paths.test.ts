// docker cp's path rules, checked against what docker's CLI does with the same arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertsDirectory, goBase, goClean, nameRebaser, prepareArchiveCopy, preserveTrailingDotOrSeparator, rebaseForLink, splitCpArg, splitPathDirEntry,
} from '../../src/cli/cp-paths.js';
import { baseName, containerPath } from '../../src/services/archive/archive.js';

test('CONTAINER:PATH versus local paths', () => {
  assert.deepEqual(splitCpArg('c1:/etc'), { container: 'c1', path: '/etc' });
  assert.deepEqual(splitCpArg('c1:rel/x'), { container: 'c1', path: 'rel/x' });
  assert.deepEqual(splitCpArg('/abs/a:b'), { path: '/abs/a:b' });
  assert.deepEqual(splitCpArg('./a:b'), { path: './a:b' });
  assert.deepEqual(splitCpArg('file'), { path: 'file' });
  assert.deepEqual(splitCpArg('-'), { path: '-' });
});

test('Go path helpers', () => {
  assert.equal(goClean('/a//b/../c/'), '/a/c');
  assert.equal(goClean(''), '.');
  assert.equal(goBase('/a/b/'), 'b');
  assert.equal(goBase('/'), '/');
  assert.equal(goBase('/a/.'), '.');
  assert.ok(assertsDirectory('/a/'));
  assert.ok(assertsDirectory('/a/.'));
  assert.ok(!assertsDirectory('/a'));
  assert.equal(preserveTrailingDotOrSeparator('/a/b', '/a/b/'), '/a/b/');
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'b/.'), '/a/b/.');
  assert.equal(preserveTrailingDotOrSeparator('/', '/.'), '/.');
  assert.deepEqual(splitPathDirEntry('/a/b/'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/a/b/.'), { dir: '/a/b', base: '.' });
  assert.deepEqual(splitPathDirEntry('/'), { dir: '/', base: '/' });
});

test('the API path and the name of the top entry, as the daemon sees them', () => {
  assert.equal(containerPath('etc'), '/etc');
  assert.equal(containerPath('/etc/'), '/etc/');
  assert.equal(containerPath('/etc/.'), '/etc/.');
  assert.equal(containerPath('/a/../etc/./'), '/etc/');
  assert.equal(containerPath('/'), '/');
  assert.equal(containerPath('.'), '/.');
  assert.equal(baseName('/etc/'), 'etc');
  assert.equal(baseName('/etc/.'), '.');
  assert.equal(baseName('/'), '/');
});

test('rebasing names: a followed link keeps its own name', () => {
  assert.deepEqual(rebaseForLink('/x/link', '/real/target'), { path: '/real/target', rebaseName: 'link' });
  assert.deepEqual(rebaseForLink('/x/link/', '/real/target'), { path: '/real/target/', rebaseName: 'link' });
  assert.deepEqual(rebaseForLink('/x/link/.', '/real/target'), { path: '/real/target/.', rebaseName: '' });
  const r = nameRebaser('data', 'copy');
  assert.equal(r('data'), 'copy');
  assert.equal(r('data/'), 'copy/');
  assert.equal(r('data/x/y'), 'copy/x/y');
  assert.equal(r('database'), 'database');
  assert.equal(nameRebaser('.', 'new')('./x'), 'new/x');
  assert.equal(nameRebaser('/', 'new')('/bin/sh'), 'new/bin/sh');
  assert.equal(nameRebaser('/', 'new')('/'), 'new/');
});

test('where the archive goes: docker\'s four cases and its two errors', () => {
  const dir = { path: '/src/d', exists: true, isDir: true };
  const file = { path: '/src/f', exists: true, isDir: false };
  // into an existing directory: unchanged
  assert.deepEqual(prepareArchiveCopy(dir, { path: '/dst', exists: true, isDir: true }), { dstDir: '/dst' });
  // a file over a file: renamed to the destination's name
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/g', exists: true, isDir: false }), { dstDir: '/dst', rebase: { from: 'f', to: 'g' } });
  // a new directory named after the destination, in its parent
  assert.deepEqual(prepareArchiveCopy(dir, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'd', to: 'new' } });
  assert.deepEqual(prepareArchiveCopy({ ...dir, path: '/src/d/.' }, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: '.', to: 'new' } });
  assert.deepEqual(prepareArchiveCopy({ ...file, rebaseName: 'link' }, { path: '/dst/n', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'link', to: 'n' } });
  assert.throws(() => prepareArchiveCopy(dir, { path: '/dst/g', exists: true, isDir: false }), /^Error: cannot copy directory$/);
  assert.throws(() => prepareArchiveCopy(file, { path: '/dst/new/', exists: false, isDir: false }), /^Error: no such directory$/);
});
