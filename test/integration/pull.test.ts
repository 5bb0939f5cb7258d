// Pulling from a real registry (Debian's docker-registry on loopback, filled by skopeo): layers, digests,
// progress, run of the pulled image, auth with htpasswd and login, docker CLI pulls, and tampered content.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { TestDaemon, REPO } from '../helpers/daemon.ts';
import { TestRegistry, ociLayout } from '../helpers/registry.ts';
import { makeTar } from '../unit/_tar.ts';

const d = new TestDaemon();
const open = new TestRegistry();
const locked = new TestRegistry({ user: 'alice', password: 's3cret' });
let busyboxTar: Buffer;
let layoutDir = '';
let extraTar: Buffer;

before(async () => {
  await d.start();
  await Promise.all([open.start(), locked.start()]);
  const tarPath = join(d.dir, 'busybox.tar');
  const mk = spawnSync('bash', [join(REPO, 'scripts/make-images.sh'), '--tar', 'busybox', tarPath], { encoding: 'utf8' });
  assert.equal(mk.status, 0, mk.stderr);
  busyboxTar = readFileSync(tarPath);
  extraTar = await makeTar([{ name: 'etc/greeting', body: 'hello from the second layer\n' }]);
  const layout = join(d.dir, 'layout');
  layoutDir = layout;
  ociLayout(layout, 'v1', [busyboxTar, extraTar], { Cmd: ['cat', '/etc/greeting'] });
  open.copyIn(`oci:${layout}:v1`, 'demo/app:v1');
  open.copyIn(`oci:${layout}:v1`, 'demo/app:v2');
  locked.copyIn(`oci:${layout}:v1`, 'private/app:v1');
  // skopeo compresses uncompressed layers on the way in, here with zstd
  const plain = join(d.dir, 'plain-layout');
  ociLayout(plain, 'v1', [busyboxTar, extraTar], { Cmd: ['cat', '/etc/greeting'] }, false);
  open.copyIn(`oci:${plain}:v1`, 'demo/zstd:v1', ['--dest-compress', '--dest-compress-format', 'zstd']);
  open.copyIn(`oci:${layout}:v1`, 'library/mirrored:1');
});
after(async () => { await d.cleanup(); await Promise.all([open.stop(), locked.stop()]); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };

test('tug pull: every layer, docker\'s progress lines, the registry\'s digest, and the image runs', async () => {
  const ref = `${open.host}/demo/app:v1`;
  const out = ok(d.tug(['pull', ref]));
  const digest = await open.digestOf('demo/app', 'v1');
  assert.match(out, /v1: Pulling from demo\/app/);
  assert.equal((out.match(/Pull complete/g) ?? []).length, 2, out);
  assert.match(out, new RegExp(`Digest: ${digest}`));
  assert.match(out, new RegExp(`Status: Downloaded newer image for ${ref.replace(/\./g, '\\.')}`));
  assert.match(out, new RegExp(`^${ref.replace(/\./g, '\\.')}$`, 'm'));
  const img = JSON.parse(ok(d.tug(['image', 'inspect', ref])))[0];
  assert.deepEqual(img.RepoDigests, [`${open.host}/demo/app@${digest}`]);
  assert.equal(img.RootFS.Layers.length, 2);
  assert.equal(ok(d.tug(['run', '--rm', ref])), 'hello from the second layer\n');

  // again: nothing to download
  const again = ok(d.tug(['pull', ref]));
  assert.match(again, /Status: Image is up to date/);
  // another tag of the same image shares every layer
  const v2 = ok(d.tug(['pull', `${open.host}/demo/app:v2`]));
  assert.doesNotMatch(v2, /Pull complete/);
  // by digest
  ok(d.tug(['rmi', `${open.host}/demo/app:v1`, `${open.host}/demo/app:v2`]));
  const byDigest = ok(d.tug(['pull', `${open.host}/demo/app@${digest}`]));
  assert.match(byDigest, /Pull complete/);
  ok(d.tug(['rmi', `${open.host}/demo/app@${digest}`]));
});

test('run pulls a missing image (quietly with -q); the docker CLI pulls through tugd; pull -q prints only the name', () => {
  const ref = `${open.host}/demo/app:v2`;
  const r = d.tug(['run', '--rm', ref]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`Unable to find image '${ref.replace(/\./g, '\\.')}' locally`));
  assert.match(r.stderr, /Pull complete/);
  assert.equal(r.stdout, 'hello from the second layer\n');
  ok(d.tug(['rmi', ref]));
  // -q: the same without the pull's progress
  const quiet = d.tug(['run', '-q', '--rm', ref]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr.trim(), `Unable to find image '${ref}' locally`);
  assert.equal(quiet.stdout, 'hello from the second layer\n');
  ok(d.tug(['rmi', ref]));

  const viaDocker = ok(d.docker(['pull', `${open.host}/demo/app:v1`]));
  assert.match(viaDocker, /Pull complete/);
  assert.match(viaDocker, /Digest: sha256:/);
  assert.equal(ok(d.docker(['run', '--rm', `${open.host}/demo/app:v1`])), 'hello from the second layer\n');
  ok(d.tug(['rmi', `${open.host}/demo/app:v1`]));

  assert.equal(ok(d.tug(['pull', '-q', `${open.host}/demo/app:v1`])).trim(), `${open.host}/demo/app:v1`);
  ok(d.tug(['rmi', `${open.host}/demo/app:v1`]));
  const missing = d.tug(['pull', `${open.host}/demo/nothing:v1`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found: (manifest|name) unknown/);
});

test('a registry behind htpasswd: refused without login, pulled after tug login and docker login', () => {
  const ref = `${locked.host}/private/app:v1`;
  const denied = d.tug(['pull', ref]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /pull access denied|unauthorized/);
  const cfg = join(d.dir, 'tug-config');
  const env = { TUG_CONFIG: cfg };
  const bad = d.tug(['login', '-u', 'alice', '--password-stdin', locked.host], 'wrong\n', env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unauthorized/);
  const good = d.tug(['login', '-u', 'alice', '--password-stdin', locked.host], 's3cret\n', env);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /Login Succeeded/);
  const stored = JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8'));
  assert.equal(Buffer.from(stored.auths[locked.host].auth, 'base64').toString(), 'alice:s3cret');
  ok(d.tug(['pull', ref], undefined, env));
  ok(d.tug(['rmi', ref]));
  assert.match(ok(d.tug(['logout', locked.host], undefined, env)), /Removing login credentials/);
  assert.notEqual(d.tug(['pull', ref], undefined, env).code, 0);

  assert.equal(d.docker(['login', '-u', 'alice', '--password-stdin', locked.host], 's3cret\n').code, 0);
  assert.match(ok(d.docker(['pull', ref])), /Pull complete/);
  ok(d.tug(['rmi', ref]));
});

/** Serve a registry from files we control, to feed tugd broken content. */
async function fakeRegistry(files: Record<string, { type: string; body: Buffer }>): Promise<{ host: string; close: () => void }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (req.url === '/v2/') { res.writeHead(200).end('{}'); return; }
    if (!f) { res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'); return; }
    res.writeHead(200, { 'Content-Type': f.type, 'Content-Length': f.body.length });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

test('tampered content is refused and nothing of it is kept', async () => {
  const h = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const layer = gzipSync(extraTar);
  const config = (diffIds: string[]) => Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = (cfg: Buffer, layers: Array<{ digest: string; size: number }>, mediaType = 'application/vnd.oci.image.manifest.v1+json') =>
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: h(cfg), size: cfg.length }, layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })) }));
  const goodCfg = config([h(extraTar)]);
  const badCfg = config([`sha256:${'0'.repeat(64)}`]);
  const tampered = Buffer.from(layer);
  tampered[tampered.length - 10] ^= 0xff;
  const M = 'application/vnd.oci.image.manifest.v1+json';
  const files: Record<string, { type: string; body: Buffer }> = {
    [`/v2/x/blobs/${h(goodCfg)}`]: { type: 'application/octet-stream', body: goodCfg },
    [`/v2/y/blobs/${h(badCfg)}`]: { type: 'application/octet-stream', body: badCfg },
    [`/v2/y/blobs/${h(layer)}`]: { type: 'application/octet-stream', body: layer },
    [`/v2/x/blobs/${h(layer)}`]: { type: 'application/octet-stream', body: tampered }, // served under the good digest
    [`/v2/x/manifests/tampered-layer`]: { type: M, body: manifest(goodCfg, [{ digest: h(layer), size: layer.length }]) },
    [`/v2/y/manifests/bad-diffid`]: { type: M, body: manifest(badCfg, [{ digest: h(layer), size: layer.length }]) },
    [`/v2/x/manifests/list-as-manifest`]: { type: M, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M, manifests: [] })) },
    [`/v2/x/manifests/wrong-digest@sha256:${'1'.repeat(64)}`]: { type: M, body: manifest(goodCfg, []) },
  };
  files[`/v2/x/manifests/sha256:${'1'.repeat(64)}`] = files[`/v2/x/manifests/wrong-digest@sha256:${'1'.repeat(64)}`];
  const reg = await fakeRegistry(files);
  try {
    const before = spawnSync('find', [d.root, '-path', '*/blobs/*', '-o', '-path', '*/snapshots/*/meta.json'], { encoding: 'utf8' }).stdout;
    const cases: Array<[string, RegExp]> = [
      ['tampered-layer', /digest mismatch|does not match/],
      ['bad-diffid', /does not match the DiffID/],
      ['list-as-manifest', /invalid manifest/],
      [`@sha256:${'1'.repeat(64)}`, /manifest verification failed/],
    ];
    for (const [tag, why] of cases) {
      // the fake registry lives in this process: the CLI must run without blocking it
      const repo = tag === 'bad-diffid' ? 'y' : 'x';
      const r = await d.tugAsync(['pull', `${reg.host}/${repo}${tag.startsWith('@') ? tag : `:${tag}`}`]);
      assert.equal(r.code, 1, `${tag}: ${r.stdout}`);
      assert.match(r.stderr, why, tag);
    }
    const afterFiles = spawnSync('find', [d.root, '-path', '*/blobs/*', '-o', '-path', '*/snapshots/*/meta.json'], { encoding: 'utf8' }).stdout;
    assert.equal(afterFiles, before, 'no blob or snapshot was kept');
    assert.doesNotMatch(ok(d.tug(['images', '-a'])), new RegExp(reg.host.replace(/\./g, '\\.')));
  } finally {
    reg.close();
  }
});

test('kill -9 during a pull: after the restart nothing partial is kept and the pull completes', async () => {
  // a proxy in front of the registry that sends blobs slowly, so the daemon is surely killed mid-layer
  const { createServer, request } = await import('node:http');
  const [host, port] = open.host.split(':');
  const proxy = createServer((req, res) => {
    const up = request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (!/\/blobs\/sha256:/.test(req.url ?? '')) { ur.pipe(res); return; }
      ur.on('data', (c: Buffer) => { ur.pause(); res.write(c); setTimeout(() => ur.resume(), 20); });
      ur.on('end', () => res.end());
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const via = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const ref = `${via}/demo/app:v1`;
  try {
    const p = spawn(process.execPath, [join(REPO, 'dist/tug.js'), '-H', d.host, 'pull', ref], { stdio: 'ignore' });
    const ingest = join(d.root, 'content', 'ingest');
    // mid-layer: a blob being received, and files of the layer already unpacked beside it
    const midLayer = () => spawnSync('find', [ingest, '-type', 'f'], { encoding: 'utf8' }).stdout.trim() !== '' &&
      spawnSync('find', [join(d.root, 'snapshots', 'tmp'), '-type', 'f', '-size', '+0'], { encoding: 'utf8' }).stdout.trim() !== '';
    const deadline = Date.now() + 20000;
    while (!midLayer() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(midLayer(), 'the pull was caught mid-layer');
    await d.kill('SIGKILL');
    p.kill();
    await d.start();
    assert.equal(spawnSync('find', [ingest, join(d.root, 'snapshots', 'tmp'), '-mindepth', '1'], { encoding: 'utf8' }).stdout, '', 'no partial blob or unpack left');
    assert.doesNotMatch(d.tug(['images']).stdout, /demo\/app/);
    const again = await d.tugAsync(['pull', ref]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(d.tug(['run', '--rm', ref]).stdout, 'hello from the second layer\n');
    d.tug(['rmi', ref]);
  } finally {
    proxy.close();
  }
});

test('zstd layers are pulled; daemon.json registry-mirrors serve Docker Hub names, a dead mirror is skipped', async () => {
  const zref = `${open.host}/demo/zstd:v1`;
  const sk = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${zref}`], { encoding: 'utf8' });
  assert.match(sk.stdout, /tar\+zstd/, 'the registry holds zstd layers');
  ok(d.tug(['pull', zref]));
  assert.equal(ok(d.tug(['run', '--rm', zref])), 'hello from the second layer\n');
  ok(d.tug(['rmi', zref]));

  writeFileSync(join(d.dir, 'daemon.json'), JSON.stringify({ 'registry-mirrors': ['http://127.0.0.1:9', `http://${open.host}`] }));
  await d.kill('SIGTERM');
  await d.start();
  try {
    // docker info shows them as docker's own does
    assert.match(ok(d.docker(['info'])), new RegExp(`Registry Mirrors:\\n\\s+http://127\\.0\\.0\\.1:9/?\\n\\s+http://${open.host.replace(/\./g, '\\.')}/?\\n`));
    assert.deepEqual(JSON.parse(ok(d.tug(['info', '--format', '{{json .RegistryConfig.Mirrors}}']))), ['http://127.0.0.1:9', `http://${open.host}`]);
    const out = ok(d.tug(['pull', 'mirrored:1']));
    assert.match(out, /Pulling from library\/mirrored/);
    assert.match(out, /Status: Downloaded newer image for mirrored:1/);
    assert.equal(ok(d.tug(['run', '--rm', 'mirrored:1'])), 'hello from the second layer\n');
    ok(d.tug(['rmi', 'mirrored:1']));
  } finally {
    writeFileSync(join(d.dir, 'daemon.json'), '{}');
    await d.kill('SIGTERM');
    await d.start();
  }
});

test('pull -a brings every tag of a repository', () => {
  const out = ok(d.tug(['pull', '-a', `${open.host}/demo/app`]));
  assert.match(out, /v1: Pulling from demo\/app/);
  assert.match(out, /v2: Pulling from demo\/app/);
  const tags = ok(d.tug(['images', '--format', '{{.Tag}}', `${open.host}/demo/app`])).trim().split('\n').sort();
  assert.deepEqual(tags, ['v1', 'v2']);
  ok(d.tug(['rmi', `${open.host}/demo/app:v1`, `${open.host}/demo/app:v2`]));
});

test('a registry on a non-loopback address is reached over plain HTTP only when insecure-registries names it', async () => {
  const ip = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  assert.ok(ip, 'the host has a non-loopback IPv4 address');
  const remote = new TestRegistry(undefined, ip);
  await remote.start();
  try {
    remote.copyIn(`oci:${layoutDir}:v1`, 'far/app:1');
    const ref = `${remote.host}/far/app:1`;
    const refused = d.tug(['pull', ref]);
    assert.equal(refused.code, 1, 'https is tried first');
    assert.match(refused.stderr, new RegExp(`https://${ip.replace(/\./g, '\\.')}`));
    for (const entry of [remote.host, `${ip}/32`]) {
      writeFileSync(join(d.dir, 'daemon.json'), JSON.stringify({ 'insecure-registries': [entry] }));
      await d.kill('SIGTERM');
      await d.start();
      assert.match(ok(d.docker(['info'])), new RegExp(`Insecure Registries:\\n(\\s+.*\\n)*\\s+${entry.replace(/\./g, '\\.')}\\n`), 'docker info lists it');
      ok(d.tug(['pull', ref]));
      assert.equal(ok(d.tug(['run', '--rm', ref])), 'hello from the second layer\n');
      ok(d.tug(['rmi', ref]));
    }
  } finally {
    await remote.stop();
    writeFileSync(join(d.dir, 'daemon.json'), '{}');
    await d.kill('SIGTERM');
    await d.start();
  }
});

test('an OCI archive (skopeo oci-archive) loads with its name', async () => {
  const archive = join(d.dir, 'oci.tar');
  const cp = spawnSync('skopeo', ['copy', '--quiet', `oci:${layoutDir}:v1`, `oci-archive:${archive}:oci/app:1`], { encoding: 'utf8' });
  assert.equal(cp.status, 0, cp.stderr);
  const out = ok(d.tug(['load', '-i', archive]));
  assert.match(out, /Loaded image: oci\/app:1/);
  const name = 'oci/app:1';
  assert.equal(ok(d.tug(['run', '--rm', name])), 'hello from the second layer\n');
  ok(d.tug(['rmi', name]));
});
