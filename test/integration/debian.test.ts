// The round trip on a real distribution: a debootstrap'd Debian plus a layer, put into Debian's
// docker-registry by skopeo; tug pulls and runs it, pushes it under another name, removes it, pulls it back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.ts';
import { TestRegistry, ociLayout } from '../helpers/registry.ts';
import { debianRootfsTar } from '../helpers/debian.ts';
import { makeTar } from '../unit/_tar.ts';

const d = new TestDaemon();
const reg = new TestRegistry();
before(async () => { await d.start(); await reg.start(); });
after(async () => { await d.cleanup(); await reg.stop(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };

test('debootstrap\'d Debian plus a layer: pull, run, push, remove, pull back, run; digests are the registry\'s', { timeout: 600_000 }, async () => {
  const base = readFileSync(debianRootfsTar());
  const note = await makeTar([{ name: 'etc/tug-note', body: 'layered on debian\n' }]);
  const layout = join(d.dir, 'layout');
  ociLayout(layout, '1', [base, note], { Cmd: ['bash', '-c', 'echo "$(cat /etc/debian_version) $(cat /etc/tug-note)"'] });
  reg.copyIn(`oci:${layout}:1`, 'deb/base:1');

  const src = `${reg.host}/deb/base:1`;
  assert.match(ok(d.tug(['pull', src])), new RegExp(`Digest: ${await reg.digestOf('deb/base', '1')}`));
  const first = ok(d.tug(['run', '--rm', src]));
  assert.match(first, /^12\.\d+ layered on debian\n$/);
  const id = JSON.parse(ok(d.tug(['image', 'inspect', src])))[0].Id;

  const again = `${reg.host}/deb/again:2`;
  ok(d.tug(['tag', src, again]));
  const pushed = ok(d.tug(['push', again]));
  const digest = await reg.digestOf('deb/again', '2');
  assert.match(pushed, new RegExp(`2: digest: ${digest}`));

  ok(d.tug(['rmi', src, again]));
  assert.doesNotMatch(ok(d.tug(['images', '-a', '--no-trunc', '-q'])), new RegExp(id.replace('sha256:', '')));
  assert.match(ok(d.tug(['pull', again])), /Pull complete/);
  assert.equal(JSON.parse(ok(d.tug(['image', 'inspect', again])))[0].Id, id, 'the same image comes back');
  assert.equal(ok(d.tug(['run', '--rm', again])), first);
  ok(d.tug(['rmi', again]));
});
