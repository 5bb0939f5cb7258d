// Client-side detach keys for interactive TTY sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachScanner, parseDetachKeys } from '../../src/util/detach-keys.ts';

test('parse docker detach-key specs', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,a')], [0, 97]);
  assert.deepEqual([...parseDetachKeys('ctrl-[')], [27]);
  assert.throws(() => parseDetachKeys('alt-x'), /Invalid detach keys/);
});

test('the sequence is held back, detected across chunks, and never forwarded', () => {
  const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(s.feed(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detach: false });
  assert.deepEqual(s.feed(Buffer.from('\x11zz')), { forward: Buffer.alloc(0), detach: true });
});

test('a partial sequence followed by other input is forwarded intact', () => {
  const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(s.feed(Buffer.from('\x10x')), { forward: Buffer.from('\x10x'), detach: false });
  assert.deepEqual(s.feed(Buffer.from('\x10\x10\x11')), { forward: Buffer.from('\x10'), detach: true });
});
