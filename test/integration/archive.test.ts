// save/load: tugboat's archives read by skopeo and loaded back, skopeo's docker-archive loaded by tugboat,
// the docker CLI's save/load through tugd, archives passed both ways with a real dockerd, and a tampered archive
// refused with nothing kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';
import { TestDaemon, REPO } from '../helpers/daemon.ts';
import { ociLayout } from '../helpers/registry.ts';
import { RealDockerd } from '../helpers/dockerd.ts';
import { makeTar } from '../unit/_tar.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const skopeo = (args: string[]) => spawnSync('skopeo', args, { encoding: 'utf8' });

async function entries(tar: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = extract();
  const reading = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.set(e.header.name, Buffer.concat(chunks));
    }
  })();
  Readable.from([tar]).pipe(ex);
  await reading;
  return out;
}

test('tug save writes docker-archive + OCI layout that skopeo reads; tug load brings the images back', async () => {
  const file = join(d.dir, 'saved.tar');
  ok(d.tug(['save', '-o', file, 'busybox', 'hello-world']));
  const files = await entries(readFileSync(file));
  const manifest = JSON.parse(files.get('manifest.json')!.toString());
  assert.deepEqual(manifest.map((m: { RepoTags: string[] }) => m.RepoTags).flat().sort(), ['busybox:latest', 'hello-world:latest']);
  assert.ok(files.has('index.json') && files.has('oci-layout'));
  const sk = skopeo(['inspect', `docker-archive:${file}:busybox:latest`]);
  assert.equal(sk.status, 0, sk.stderr);
  assert.equal(JSON.parse(sk.stdout).Layers.length, 1);
  const ids = JSON.parse(ok(d.tug(['image', 'inspect', 'busybox', 'hello-world']))).map((i: { Id: string }) => i.Id);

  ok(d.tug(['rmi', 'busybox', 'hello-world']));
  const loaded = ok(d.tug(['load', '-i', file]));
  assert.match(loaded, /Loaded image: busybox:latest/);
  assert.match(loaded, /Loaded image: hello-world:latest/);
  assert.deepEqual(JSON.parse(ok(d.tug(['image', 'inspect', 'busybox', 'hello-world']))).map((i: { Id: string }) => i.Id), ids, 'same image IDs');
  assert.equal(ok(d.tug(['run', '--rm', 'busybox', 'echo', 'loaded'])), 'loaded\n');
});

test('an archive written by skopeo loads, multi-layer, and runs', async () => {
  const layout = join(d.dir, 'layout');
  const mk = spawnSync('bash', [join(REPO, 'scripts/make-images.sh'), '--tar', 'busybox', join(d.dir, 'bb.tar')], { encoding: 'utf8' });
  assert.equal(mk.status, 0, mk.stderr);
  ociLayout(layout, 'v1', [readFileSync(join(d.dir, 'bb.tar')), await makeTar([{ name: 'etc/greeting', body: 'from skopeo\n' }])], { Cmd: ['cat', '/etc/greeting'] });
  const archive = join(d.dir, 'skopeo.tar');
  const cp = skopeo(['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:made/by:skopeo`]);
  assert.equal(cp.status, 0, cp.stderr);
  assert.match(ok(d.tug(['load', '-i', archive])), /Loaded image: made\/by:skopeo/);
  assert.equal(ok(d.tug(['run', '--rm', 'made/by:skopeo'])), 'from skopeo\n');
});

test('docker save and docker load through tugd', () => {
  const file = join(d.dir, 'docker.tar');
  ok(d.docker(['save', '-o', file, 'made/by:skopeo']));
  ok(d.docker(['rmi', 'made/by:skopeo']));
  assert.match(ok(d.docker(['load', '-i', file])), /Loaded image: made\/by:skopeo/);
  assert.equal(ok(d.docker(['run', '--rm', 'made/by:skopeo'])), 'from skopeo\n');
});

test('tug save loads into a real dockerd, same image ID, and runs there; what that dockerd commits and saves loads into tugd and runs', async () => {
  const real = new RealDockerd();
  try {
    await real.start();
    const file = join(d.dir, 'to-docker.tar');
    ok(d.tug(['save', '-o', file, 'busybox']));
    assert.match(ok(real.docker(['load', '-i', file])), /Loaded image: busybox:latest/);
    assert.equal(ok(real.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim(), ok(d.tug(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim());
    ok(real.docker(['run', '--name', 'maker', '--network', 'none', 'busybox', 'sh', '-c', 'echo made by docker > /made']));
    ok(real.docker(['commit', '-c', 'CMD ["cat", "/made"]', 'maker', 'made/in:docker']));
    const back = join(d.dir, 'from-docker.tar');
    ok(real.docker(['save', '-o', back, 'made/in:docker']));
    assert.match(ok(d.tug(['load', '-i', back])), /Loaded image: made\/in:docker/);
    assert.equal(ok(d.tug(['image', 'inspect', '-f', '{{.Id}}', 'made/in:docker'])).trim(), ok(real.docker(['image', 'inspect', '-f', '{{.Id}}', 'made/in:docker'])).trim());
    assert.equal(ok(d.tug(['run', '--rm', 'made/in:docker'])), 'made by docker\n');
    ok(d.tug(['rmi', 'made/in:docker']));
    real.docker(['rm', '-f', 'maker']);
  } finally {
    await real.stop();
  }
});

test('a tampered archive is refused and leaves no image', async () => {
  const file = join(d.dir, 'saved.tar');
  const files = await entries(readFileSync(file));
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Layers: string[]; RepoTags: string[] }>;
  const hw = manifest.find((m) => m.RepoTags.includes('hello-world:latest'))!;
  // flip a byte inside the layer: its digest no longer matches the config's DiffID
  const layer = Buffer.from(files.get(hw.Layers[0])!);
  layer[600] ^= 0x01;
  files.set(hw.Layers[0], layer);
  const { pack } = await import('tar-stream');
  const p = pack();
  for (const [name, body] of files) p.entry({ name }, body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  const bad = join(d.dir, 'bad.tar');
  writeFileSync(bad, Buffer.concat(chunks));
  ok(d.tug(['rmi', 'hello-world'])); // a layer present already would not be read from the archive
  const before = ok(d.tug(['images', '-aq'])).trim();
  const r = d.tug(['load', '-i', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /digest mismatch|does not match/);
  assert.equal(ok(d.tug(['images', '-aq'])).trim(), before);
  assert.equal(spawnSync('find', [join(d.root, 'tmp'), '-type', 'f'], { encoding: 'utf8' }).stdout, '', 'no temporary files left');
});
