// Directory sizes kept between requests: fresh, stale-while-revalidate within bounds, re-measured when older.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SizeCache } from '../../src/util/size-cache.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A directory of the test's own, gone after it. */
function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sizecache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a live directory: kept while fresh, answered stale while re-measured, awaited when old', async (t) => {
  const dir = tempDir(t);
  const cache = new SizeCache(100);
  writeFileSync(join(dir, 'a'), 'x'.repeat(10));
  assert.equal(await cache.size('c', dir, true), 10);
  writeFileSync(join(dir, 'b'), 'x'.repeat(5));
  assert.equal(await cache.size('c', dir, true), 10, 'fresh: kept');
  await sleep(150);
  assert.equal(await cache.size('c', dir, true), 10, 'a little old: the last figure, a new measure started');
  await sleep(20);
  assert.equal(await cache.size('c', dir, true), 15, 'the new measure is in');
  writeFileSync(join(dir, 'c'), 'x'.repeat(7));
  await sleep(400);
  assert.equal(await cache.size('c', dir, true), 22, 'too old to answer: measured again first');
});

test('an idle directory is kept until invalidated', async (t) => {
  const dir = tempDir(t);
  const cache = new SizeCache(10);
  writeFileSync(join(dir, 'a'), 'x'.repeat(3));
  assert.equal(await cache.size('v', dir, false), 3);
  writeFileSync(join(dir, 'b'), 'x'.repeat(4));
  await sleep(50);
  assert.equal(await cache.size('v', dir, false), 3);
  cache.invalidate('v');
  assert.equal(await cache.size('v', dir, false), 7);
});
