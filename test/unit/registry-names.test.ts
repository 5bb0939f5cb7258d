import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDigest, parseReference, validName, validTag } from '../../src/registry/names.js';
import { parseContentRange, parseRange } from '../../src/registry/ranges.js';
import { linkNext, paginate } from '../../src/registry/http.js';
import { parseAddr } from '../../src/registry/server.js';

const hex = 'a'.repeat(64);

test('repository names: lowercase components joined by slashes, separators only between letters and digits', () => {
  for (const ok of ['a', 'library/busybox', 'x/y/z', 'my-app', 'a__b', 'a.b_c--d', 'team/v1.2/app', '0/1']) assert.ok(validName(ok), ok);
  for (const bad of ['', 'A', 'a/', '/a', 'a//b', '-a', 'a-', 'a___b', 'a..b', 'a/_layers', 'a/.', 'a/..', 'ä', 'a b', 'a:5000/b', `${'a'.repeat(256)}`]) assert.equal(validName(bad), false, bad);
  assert.ok(validName('a'.repeat(255)));
});

test('tags: up to 128 word characters, dots and dashes, not starting with either', () => {
  for (const ok of ['latest', 'v1.2.3', '_x', 'A-b_c.d', 'x'.repeat(128)]) assert.ok(validTag(ok), ok);
  for (const bad of ['', '.x', '-x', 'a/b', 'a:b', 'x'.repeat(129), 'a b']) assert.equal(validTag(bad), false, bad);
});

test('digests: sha256 and sha512 in lowercase hex of the right length', () => {
  assert.deepEqual(parseDigest(`sha256:${hex}`), { algorithm: 'sha256', hex });
  assert.deepEqual(parseDigest(`sha512:${'0'.repeat(128)}`), { algorithm: 'sha512', hex: '0'.repeat(128) });
  for (const bad of [hex, `sha256:${hex.toUpperCase()}`, `sha256:${hex.slice(1)}`, `md5:${hex}`, `sha256:${hex}/..`, 'sha256:', ':']) assert.equal(parseDigest(bad), undefined, bad);
});

test('manifest references: a tag, a digest, or which of the two is malformed', () => {
  assert.deepEqual(parseReference('latest'), { kind: 'tag', tag: 'latest' });
  assert.deepEqual(parseReference(`sha256:${hex}`), { kind: 'digest', digest: `sha256:${hex}` });
  assert.deepEqual(parseReference('sha256:123'), { invalid: 'digest' });
  assert.deepEqual(parseReference(`md5:${hex}`), { invalid: 'digest' });
  assert.deepEqual(parseReference('.bad'), { invalid: 'tag' });
});

test('Content-Range of a chunk: inclusive start-end, with or without the HTTP form', () => {
  assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
  assert.deepEqual(parseContentRange('100-100'), { start: 100, end: 100 });
  assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9 });
  assert.deepEqual(parseContentRange('bytes=5-9'), { start: 5, end: 9 });
  assert.deepEqual(parseContentRange('bytes 5-9/10'), { start: 5, end: 9 });
  for (const bad of ['', '5', '9-5', '-5', '5-', 'a-b', '1-2-3', '0-9999999999999999']) assert.equal(parseContentRange(bad), undefined, bad);
});

test('Range of a download: one range, clamped to the blob; outside it is unsatisfiable; others are ignored', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-1000', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange('bytes=9-2', 100), undefined);
  assert.equal(parseRange('items=0-1', 100), undefined);
});

test('pages of a sorted list: n after last, a next link only when more remain', () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  assert.deepEqual(paginate(all, null, null), { items: all });
  assert.deepEqual(paginate(all, '2', null), { items: ['a', 'b'], next: { n: 2, last: 'b' } });
  assert.deepEqual(paginate(all, '2', 'b'), { items: ['c', 'd'], next: { n: 2, last: 'd' } });
  assert.deepEqual(paginate(all, '2', 'c'), { items: ['d', 'e'] });
  assert.deepEqual(paginate(all, null, 'c'), { items: ['d', 'e'] });
  assert.deepEqual(paginate(all, '0', null), { items: [] });
  assert.throws(() => paginate(all, '-1', null), /invalid number/);
  assert.throws(() => paginate(all, 'x', null), /invalid number/);
  assert.deepEqual(linkNext('/v2/a/b/tags/list', { n: 2, last: 'v1.0' }), { Link: '</v2/a/b/tags/list?n=2&last=v1.0>; rel="next"' });
  assert.deepEqual(linkNext('/v2/_catalog', undefined), {});
});

test('listen addresses: host:port, [v6]:port, :port', () => {
  assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseAddr('[::1]:5000'), { host: '::1', port: 5000 });
  assert.deepEqual(parseAddr(':5000'), { host: undefined, port: 5000 });
  assert.deepEqual(parseAddr('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['5000', 'host:', 'host:99999', '::1:5000', 'a:b']) assert.throws(() => parseAddr(bad), /invalid address/, bad);
});
