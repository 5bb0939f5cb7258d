// Pushing to a real registry (Debian's docker-registry on loopback): blobs, manifest and digest as the registry
// reports them, pushing again, cross-repository mounts, the docker CLI through tugd, htpasswd auth, and the
// pushed image pulled back, run, and read by skopeo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.ts';
import { TestRegistry } from '../helpers/registry.ts';

const d = new TestDaemon();
const open = new TestRegistry();
const locked = new TestRegistry({ user: 'bob', password: 'pw-bob' });
before(async () => { await d.start(); await d.makeImages(); await Promise.all([open.start(), locked.start()]); });
after(async () => { await d.cleanup(); await Promise.all([open.stop(), locked.stop()]); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };

test('tug push: layers and manifest land, the digest is the registry\'s, and the image comes back and runs', async () => {
  const ref = `${open.host}/mine/busybox:1`;
  ok(d.tug(['tag', 'busybox', ref]));
  const out = ok(d.tug(['push', ref]));
  assert.match(out, new RegExp(`The push refers to repository \\[${open.host.replace(/\./g, '\\.')}/mine/busybox\\]`));
  assert.match(out, /[0-9a-f]{12}: Pushed/);
  const digest = await open.digestOf('mine/busybox', '1');
  assert.match(out, new RegExp(`1: digest: ${digest} size: \\d+`));
  assert.deepEqual(JSON.parse(ok(d.tug(['image', 'inspect', ref])))[0].RepoDigests, [`${open.host}/mine/busybox@${digest}`]);

  const again = ok(d.tug(['push', ref]));
  assert.match(again, /Layer already exists/);
  assert.doesNotMatch(again, /: Pushed/);
  assert.match(again, new RegExp(`1: digest: ${digest}`), 'the same blobs and manifest again');

  // skopeo reads what tugboat pushed
  const sk = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
  assert.equal(sk.status, 0, sk.stderr);
  const info = JSON.parse(sk.stdout);
  assert.equal(info.Digest, digest);
  assert.equal(info.Layers.length, 1);

  ok(d.tug(['rmi', ref]));
  ok(d.tug(['rmi', '-f', 'busybox']));
  const back = ok(d.tug(['pull', ref]));
  assert.match(back, /Pull complete/);
  assert.equal(ok(d.tug(['run', '--rm', ref, 'echo', 'round trip'])), 'round trip\n');
  ok(d.tug(['tag', ref, 'busybox:latest']));
});

test('a layer the registry has in another repository is mounted, not sent again', () => {
  const ref = `${open.host}/other/copy:2`;
  ok(d.tug(['tag', `${open.host}/mine/busybox:1`, ref]));
  const out = ok(d.tug(['push', ref]));
  assert.match(out, /Mounted from mine\/busybox|Layer already exists/);
  assert.doesNotMatch(out, /: Pushed/);
  ok(d.tug(['rmi', ref]));
});

test('the docker CLI pushes through tugd; all tags with -a; a registry behind htpasswd needs a login', async () => {
  ok(d.docker(['tag', 'hello-world', `${open.host}/hw/app:a`]));
  ok(d.docker(['tag', 'hello-world', `${open.host}/hw/app:b`]));
  const out = ok(d.docker(['push', `${open.host}/hw/app:a`]));
  assert.match(out, /a: digest: sha256:[0-9a-f]{64} size: \d+/);
  const all = ok(d.tug(['push', '-a', `${open.host}/hw/app`]));
  assert.match(all, /a: digest:/);
  assert.match(all, /b: digest:/);
  assert.equal(await open.digestOf('hw/app', 'a'), await open.digestOf('hw/app', 'b'));

  const ref = `${locked.host}/team/hw:1`;
  ok(d.tug(['tag', 'hello-world', ref]));
  const env = { TUG_CONFIG: join(d.dir, 'tug-config') };
  const denied = d.tug(['push', ref], undefined, env);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /denied|unauthorized/);
  ok(d.tug(['login', '-u', 'bob', '--password-stdin', locked.host], 'pw-bob\n', env));
  assert.match(ok(d.tug(['push', ref], undefined, env)), /1: digest: sha256:/);
  assert.notEqual(await locked.digestOf('team/hw', '1'), '');

  const missing = d.tug(['push', `${open.host}/nothing/here:1`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /tag does not exist|An image does not exist locally/);
});
