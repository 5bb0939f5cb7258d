import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, familiarString, fullName, normalizeRef, parseReference } from '../../src/services/images/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

test('normalises to docker display names', () => {
  assert.equal(normalizeRef('busybox'), 'busybox:latest');
  assert.equal(normalizeRef('busybox:1.36'), 'busybox:1.36');
  assert.equal(normalizeRef('docker.io/library/busybox'), 'busybox:latest');
  assert.equal(normalizeRef('index.docker.io/library/busybox:x'), 'busybox:x');
  assert.equal(normalizeRef('library/busybox'), 'busybox:latest');
  assert.equal(normalizeRef('user/app'), 'user/app:latest');
  assert.equal(normalizeRef('docker.io/user/app:v1'), 'user/app:v1');
  assert.equal(normalizeRef('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizeRef('localhost/app:1'), 'localhost/app:1');
  assert.equal(normalizeRef('reg.example.com:443/a/b/c:t'), 'reg.example.com:443/a/b/c:t');
  assert.equal(normalizeRef(`busybox@${D}`), `busybox@${D}`);
  assert.equal(normalizeRef(`busybox:1@${D}`), `busybox@${D}`);
  assert.equal(normalizeRef('a__b.c-d---e:tag_1.2-x'), 'a__b.c-d---e:tag_1.2-x');
});

test('splits domain, path, tag and digest', () => {
  const r = parseReference(`myreg:5000/team/app:v2@${D}`);
  assert.deepEqual(r, { domain: 'myreg:5000', path: 'team/app', tag: 'v2', digest: D });
  assert.equal(familiarName(r), 'myreg:5000/team/app');
  assert.equal(fullName(parseReference('busybox')), 'docker.io/library/busybox');
  assert.equal(familiarString(parseReference('busybox')), 'busybox');
  assert.equal(familiarName(parseReference('library/a/b')), 'library/a/b');
  assert.equal(parseReference('[::1]:5000/app').domain, '[::1]:5000');
});

test('rejects what docker rejects, with docker wording', () => {
  for (const bad of ['', ' busybox', 'busy box', 'busybox:', ':tag', 'a//b', '-a', 'a-', 'a:b:c', 'busybox@sha256:abc', 'busybox@', 'a/b:' + 'x'.repeat(129), 'http://x/y', '.a']) {
    assert.throws(() => parseReference(bad), (e: Error & { status?: number }) => e.status === 400 && /invalid reference format/.test(e.message), bad);
  }
  assert.throws(() => parseReference('Busybox'), /invalid reference format: repository name \(library\/Busybox\) must be lowercase/);
  assert.throws(() => parseReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  assert.throws(() => parseReference(`reg.io/${'a'.repeat(260)}`), /must not be more than 255 characters/);
});
