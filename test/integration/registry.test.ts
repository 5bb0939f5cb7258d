// tug registry serve with real clients: skopeo in and out of it, uploads by hand (chunked, resumed, refused),
// manifests, tags and catalog pages, referrers, deletion, tugd pushing, pulling and running through it (open,
// and behind htpasswd with basic and bearer auth after tug login), search and stars, and garbage collection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, REPO } from '../helpers/daemon.ts';
import { ociLayout, TestRegistry as DebianRegistry } from '../helpers/registry.ts';
import { makeTar } from '../unit/_tar.ts';

const TUG = join(REPO, 'dist/tug.js');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A `tug registry serve` child process on a loopback port with its own storage root. */
class Registry {
  readonly dir = mkdtempSync(join(tmpdir(), 'tug-reg-'));
  readonly root = join(this.dir, 'root');
  host = '';
  log = '';
  private proc?: ChildProcess;

  constructor(readonly user?: { name: string; password: string }) {
    if (user) {
      const h = spawnSync('htpasswd', ['-Bbn', user.name, user.password], { encoding: 'utf8' });
      assert.equal(h.status, 0, h.stderr);
      writeFileSync(join(this.dir, 'htpasswd'), h.stdout);
    }
  }

  async start(): Promise<void> {
    this.host ||= `127.0.0.1:${await freePort()}`;
    const auth = this.user ? ['--htpasswd', join(this.dir, 'htpasswd'), '--realm', 'test-realm'] : [];
    const proc = spawn(process.execPath, [TUG, 'registry', 'serve', '--addr', this.host, '--root', this.root, ...auth], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr?.on('data', (b: Buffer) => { this.log += b.toString(); });
    const end = Date.now() + 15000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`registry exited:\n${this.log}`);
      try {
        const r = await fetch(`http://${this.host}/v2/`);
        if (r.status === 200 || r.status === 401) return;
      } catch { /* not up yet */ }
      if (Date.now() > end) throw new Error(`registry did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait for the exit status. */
  async stop(): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    return exited;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  basic(): Record<string, string> {
    return this.user ? { Authorization: `Basic ${Buffer.from(`${this.user.name}:${this.user.password}`).toString('base64')}` } : {};
  }

  fetch(method: string, path: string, o: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Response> {
    const body = typeof o.body === 'string' || o.body === undefined ? o.body : new Uint8Array(o.body);
    return fetch(`http://${this.host}${path}`, { method, headers: { ...this.basic(), ...o.headers }, body });
  }

  /** Wait for a line in the request log (it arrives through a pipe, after the response). */
  async logged(re: RegExp): Promise<void> {
    const end = Date.now() + 5000;
    while (!re.test(this.log) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.match(this.log, re);
  }

  /** A blob uploaded in one POST. */
  async putBlob(repo: string, data: Buffer): Promise<string> {
    const digest = sha(data);
    const r = await this.fetch('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(r.status, 201, await r.text());
    return digest;
  }

  async putManifest(repo: string, ref: string, manifest: Buffer, type = OCI_MANIFEST): Promise<Response> {
    return this.fetch('PUT', `/v2/${repo}/manifests/${ref}`, { body: manifest, headers: { 'Content-Type': type } });
  }

  skopeo(args: string[]): string {
    const r = spawnSync('skopeo', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, `skopeo ${args.join(' ')}: ${r.stderr}\n${this.log.slice(-3000)}`);
    return r.stdout;
  }
}

async function errorCode(r: Response): Promise<string> {
  const body = (await r.json()) as { errors: Array<{ code: string }> };
  return body.errors.map((e) => e.code).join(',');
}

/** An image manifest over a config and layers already in the repository. */
function imageManifest(config: Buffer, layers: Buffer[], extra: Record<string, unknown> = {}, mediaType = OCI_MANIFEST): Buffer {
  const layerType = mediaType === OCI_MANIFEST ? 'application/vnd.oci.image.layer.v1.tar' : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
  const configType = mediaType === OCI_MANIFEST ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json';
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType,
    config: { mediaType: configType, digest: sha(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: layerType, digest: sha(l), size: l.length })),
    ...extra,
  }));
}

const open = new Registry();
const locked = new Registry({ name: 'alice', password: 's3cret' });
const d = new TestDaemon();
const work = mkdtempSync(join(tmpdir(), 'tug-reg-work-'));
let layout: { dir: string; manifestDigest: string };

before(async () => {
  await Promise.all([open.start(), locked.start(), d.start().then(() => d.makeImages())]);
  const dir = join(work, 'layout');
  const layers = [await makeTar([{ name: 'etc/one', body: 'one\n' }]), await makeTar([{ name: 'etc/two', body: 'two\n'.repeat(5000) }])];
  const r = ociLayout(dir, 'v1', layers, { Labels: { 'org.opencontainers.image.description': 'layout made by the registry test' } });
  layout = { dir, manifestDigest: r.manifestDigest };
});

after(async () => {
  await d.cleanup();
  await Promise.all([open.cleanup(), locked.cleanup()]);
  rmSync(work, { recursive: true, force: true });
});

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };

test('GET /v2/ answers {} with the API version header; unknown paths and bad names are refused', async () => {
  const r = await open.fetch('GET', '/v2/');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  assert.deepEqual(await r.json(), {});
  assert.equal((await open.fetch('GET', '/v3/')).status, 404);
  const bad = await open.fetch('GET', '/v2/Upper/Case/tags/list');
  assert.equal(bad.status, 400);
  assert.equal(await errorCode(bad), 'NAME_INVALID');
  const unknown = await open.fetch('GET', '/v2/no/such/tags/list');
  assert.equal(unknown.status, 404);
  assert.equal(await errorCode(unknown), 'NAME_UNKNOWN');
  const method = await open.fetch('PATCH', '/v2/a/tags/list');
  assert.equal(method.status, 405);
  assert.equal(await errorCode(method), 'UNSUPPORTED');
  await open.logged(/ - "GET \/v2\/ HTTP\/1\.1" 200 3 /);
});

test('skopeo copies an OCI layout in and back out; the digests are the ones the server reports', async () => {
  open.skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, `docker://${open.host}/lay/out:v1`]);
  const head = await open.fetch('HEAD', '/v2/lay/out/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), OCI_MANIFEST);
  assert.equal(head.headers.get('docker-content-digest'), layout.manifestDigest, 'the manifest is stored byte for byte');
  const info = JSON.parse(open.skopeo(['inspect', '--tls-verify=false', `docker://${open.host}/lay/out:v1`]));
  assert.equal(info.Digest, layout.manifestDigest);
  assert.equal(info.Layers.length, 2);

  const back = join(work, 'back');
  open.skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${open.host}/lay/out:v1`, `oci:${back}:v1`]);
  const index = JSON.parse(readFileSync(join(back, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].digest, layout.manifestDigest);
  for (const l of info.Layers as string[]) {
    assert.deepEqual(readFileSync(join(back, 'blobs', 'sha256', l.slice(7))), readFileSync(join(layout.dir, 'blobs', 'sha256', l.slice(7))));
  }

  // a blob: its length and digest, a range of it, and only in repositories that have it
  const layer = info.Layers[1] as string;
  const full = readFileSync(join(layout.dir, 'blobs', 'sha256', layer.slice(7)));
  const h = await open.fetch('HEAD', `/v2/lay/out/blobs/${layer}`);
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('content-length'), String(full.length));
  assert.equal(h.headers.get('docker-content-digest'), layer);
  const part = await open.fetch('GET', `/v2/lay/out/blobs/${layer}`, { headers: { Range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 10-19/${full.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), full.subarray(10, 20));
  const past = await open.fetch('GET', `/v2/lay/out/blobs/${layer}`, { headers: { Range: `bytes=${full.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${full.length}`);
  const elsewhere = await open.fetch('HEAD', `/v2/other/repo/blobs/${layer}`);
  assert.equal(elsewhere.status, 404);

  // cross-repository mount: linked at once when the source has it, an ordinary upload otherwise
  const mount = await open.fetch('POST', `/v2/other/repo/blobs/uploads/?mount=${layer}&from=lay/out`);
  assert.equal(mount.status, 201);
  assert.equal(mount.headers.get('location'), `/v2/other/repo/blobs/${layer}`);
  assert.equal((await open.fetch('HEAD', `/v2/other/repo/blobs/${layer}`)).status, 200);
  const noMount = await open.fetch('POST', `/v2/other/repo/blobs/uploads/?mount=sha256:${'0'.repeat(64)}&from=lay/out`);
  assert.equal(noMount.status, 202);
  assert.match(noMount.headers.get('location') ?? '', /^\/v2\/other\/repo\/blobs\/uploads\/[0-9a-f-]{36}$/);
});

test('a chunked upload by hand: POST, PATCH, an out-of-order PATCH refused, status to resume, PATCH, PUT; bad digests refused', async () => {
  const data = Buffer.from('0123456789'.repeat(700));
  const a = data.subarray(0, 4000);
  const b = data.subarray(4000);
  const start = await open.fetch('POST', '/v2/hand/made/blobs/uploads/');
  assert.equal(start.status, 202);
  const location = start.headers.get('location')!;
  const uuid = start.headers.get('docker-upload-uuid')!;
  assert.equal(location, `/v2/hand/made/blobs/uploads/${uuid}`);
  assert.equal(start.headers.get('range'), '0-0');

  const p1 = await open.fetch('PATCH', location, { body: a, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${a.length - 1}` } });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), `0-${a.length - 1}`);
  const again = await open.fetch('PATCH', location, { body: a, headers: { 'Content-Range': `0-${a.length - 1}` } });
  assert.equal(again.status, 416);
  assert.equal(await errorCode(again), 'RANGE_INVALID');
  assert.equal(again.headers.get('range'), `0-${a.length - 1}`);

  // resume: ask where the upload stands, send the rest from there
  const status = await open.fetch('GET', location);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), `0-${a.length - 1}`);
  assert.equal(status.headers.get('docker-upload-uuid'), uuid);
  const from = Number(status.headers.get('range')!.split('-')[1]) + 1;
  const p2 = await open.fetch('PATCH', location, { body: b, headers: { 'Content-Range': `${from}-${from + b.length - 1}` } });
  assert.equal(p2.status, 202);
  assert.equal(p2.headers.get('range'), `0-${data.length - 1}`);

  const done = await open.fetch('PUT', `${location}?digest=${sha(data)}`);
  assert.equal(done.status, 201);
  assert.equal(done.headers.get('location'), `/v2/hand/made/blobs/${sha(data)}`);
  assert.equal(done.headers.get('docker-content-digest'), sha(data));
  const got = await open.fetch('GET', `/v2/hand/made/blobs/${sha(data)}`);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), data);
  assert.equal((await open.fetch('GET', location)).status, 404, 'a finished upload is gone');

  // the last chunk in the PUT, under the wrong digest: refused, and the upload dropped
  const bad = await open.fetch('POST', '/v2/hand/made/blobs/uploads/');
  const badLoc = bad.headers.get('location')!;
  const refused = await open.fetch('PUT', `${badLoc}?digest=${sha('something else')}`, { body: data });
  assert.equal(refused.status, 400);
  assert.equal(await errorCode(refused), 'DIGEST_INVALID');
  const gone = await open.fetch('GET', badLoc);
  assert.equal(gone.status, 404);
  assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
  assert.equal((await open.fetch('HEAD', `/v2/hand/made/blobs/${sha('something else')}`)).status, 404);
  const mono = await open.fetch('POST', `/v2/hand/made/blobs/uploads/?digest=${sha('x')}`, { body: 'y' });
  assert.equal(mono.status, 400);
  assert.equal(await errorCode(mono), 'DIGEST_INVALID');
  const noDigest = await open.fetch('PUT', `${(await open.fetch('POST', '/v2/hand/made/blobs/uploads/')).headers.get('location')}`);
  assert.equal(await errorCode(noDigest), 'DIGEST_INVALID');

  // cancel
  const c = await open.fetch('POST', '/v2/hand/made/blobs/uploads/');
  const cLoc = c.headers.get('location')!;
  assert.equal((await open.fetch('DELETE', cLoc)).status, 204);
  assert.equal((await open.fetch('GET', cLoc)).status, 404);
  assert.equal((await open.fetch('DELETE', cLoc)).status, 404);
});

test('manifests by tag and digest, checks on PUT, tags/list and _catalog pages, referrers, DELETE', async () => {
  const repo = 'mani/fest';
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from('not really a tar');
  await open.putBlob(repo, config);
  await open.putBlob(repo, layer);
  const manifest = imageManifest(config, [layer]);

  const missing = await open.putManifest(repo, 'broken', imageManifest(config, [layer, Buffer.from('absent')]));
  assert.equal(missing.status, 400);
  assert.equal(await errorCode(missing), 'MANIFEST_BLOB_UNKNOWN');
  const notJson = await open.putManifest(repo, 'broken', Buffer.from('{nope'));
  assert.equal(await errorCode(notJson), 'MANIFEST_INVALID');
  const v1 = await open.putManifest(repo, 'broken', Buffer.from(JSON.stringify({ schemaVersion: 1, name: repo })));
  assert.equal(await errorCode(v1), 'MANIFEST_INVALID');
  const wrongDigest = await open.putManifest(repo, sha('other'), manifest);
  assert.equal(await errorCode(wrongDigest), 'DIGEST_INVALID');

  for (const tag of ['a', 'b', 'c', 'd']) {
    const r = await open.putManifest(repo, tag, manifest);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('docker-content-digest'), sha(manifest));
    assert.equal(r.headers.get('location'), `/v2/${repo}/manifests/${sha(manifest)}`);
  }
  const byTag = await open.fetch('GET', `/v2/${repo}/manifests/b`);
  assert.equal(byTag.headers.get('content-type'), OCI_MANIFEST);
  assert.deepEqual(Buffer.from(await byTag.arrayBuffer()), manifest);
  const byDigest = await open.fetch('HEAD', `/v2/${repo}/manifests/${sha(manifest)}`);
  assert.equal(byDigest.status, 200);
  assert.equal(byDigest.headers.get('content-length'), String(manifest.length));
  const unknownTag = await open.fetch('GET', `/v2/${repo}/manifests/zzz`);
  assert.equal(unknownTag.status, 404);
  assert.equal(await errorCode(unknownTag), 'MANIFEST_UNKNOWN');

  // docker schema 2 and a manifest list over it; a list naming an absent manifest is refused
  const dockerManifest = imageManifest(config, [layer], {}, DOCKER_MANIFEST);
  assert.equal((await open.putManifest(repo, 'docker', dockerManifest, DOCKER_MANIFEST)).status, 201);
  assert.equal((await open.fetch('GET', `/v2/${repo}/manifests/docker`)).headers.get('content-type'), DOCKER_MANIFEST);
  const list = (digest: string, size: number) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest, size, platform: { os: 'linux', architecture: 'amd64' } }] }));
  assert.equal((await open.putManifest(repo, 'multi', list(sha(manifest), manifest.length), OCI_INDEX)).status, 201);
  const orphanList = await open.putManifest(repo, 'multi2', list(sha('nothing'), 7), OCI_INDEX);
  assert.equal(await errorCode(orphanList), 'MANIFEST_BLOB_UNKNOWN');

  // pages of tags, following the Link header
  const p1 = await open.fetch('GET', `/v2/${repo}/tags/list?n=2`);
  assert.deepEqual(await p1.json(), { name: repo, tags: ['a', 'b'] });
  const link = /^<([^>]+)>; rel="next"$/.exec(p1.headers.get('link') ?? '');
  assert.ok(link, 'a Link to the next page');
  const p2 = await open.fetch('GET', link[1]);
  assert.deepEqual(await p2.json(), { name: repo, tags: ['c', 'd'] });
  const p3 = await open.fetch('GET', `/v2/${repo}/tags/list?n=2&last=d`);
  assert.deepEqual(await p3.json(), { name: repo, tags: ['docker', 'multi'] });
  assert.equal(p3.headers.get('link'), null);
  assert.deepEqual(await (await open.fetch('GET', `/v2/${repo}/tags/list?n=0`)).json(), { name: repo, tags: [] });
  assert.equal(await errorCode(await open.fetch('GET', `/v2/${repo}/tags/list?n=x`)), 'PAGINATION_NUMBER_INVALID');

  const all = ((await (await open.fetch('GET', '/v2/_catalog')).json()) as { repositories: string[] }).repositories;
  assert.ok(all.includes(repo) && all.includes('lay/out') && all.includes('hand/made'), all.join());
  assert.deepEqual(all, [...all].sort());
  const c1 = await open.fetch('GET', '/v2/_catalog?n=1');
  assert.deepEqual(await c1.json(), { repositories: [all[0]] });
  assert.equal(c1.headers.get('link'), `</v2/_catalog?n=1&last=${encodeURIComponent(all[0])}>; rel="next"`);
  assert.deepEqual(await (await open.fetch('GET', `/v2/_catalog?n=1&last=${all[0]}`)).json(), { repositories: [all[1]] });

  // referrers: an artifact whose subject is the image (pushed before or after it)
  const empty = Buffer.from('{}');
  await open.putBlob(repo, empty);
  const sbom = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(empty), size: 2 }, layers: [],
    subject: { mediaType: OCI_MANIFEST, digest: sha(manifest), size: manifest.length },
    annotations: { 'org.example': 'yes' },
  }));
  const put = await open.putManifest(repo, sha(sbom), sbom);
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('oci-subject'), sha(manifest));
  const refs = await open.fetch('GET', `/v2/${repo}/referrers/${sha(manifest)}`);
  assert.equal(refs.headers.get('content-type'), OCI_INDEX);
  assert.deepEqual(await refs.json(), {
    schemaVersion: 2, mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, digest: sha(sbom), size: sbom.length, artifactType: 'application/vnd.example.sbom', annotations: { 'org.example': 'yes' } }],
  });
  const filtered = await open.fetch('GET', `/v2/${repo}/referrers/${sha(manifest)}?artifactType=application/vnd.example.other`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(((await filtered.json()) as { manifests: unknown[] }).manifests, []);
  assert.deepEqual(((await (await open.fetch('GET', `/v2/${repo}/referrers/${sha('none')}`)).json()) as { manifests: unknown[] }).manifests, []);

  // deletion: a tag, then the manifest by digest with every tag on it
  assert.equal((await open.fetch('DELETE', `/v2/${repo}/manifests/a`)).status, 202);
  assert.equal((await open.fetch('GET', `/v2/${repo}/manifests/a`)).status, 404);
  assert.equal((await open.fetch('GET', `/v2/${repo}/manifests/b`)).status, 200);
  assert.equal((await open.fetch('DELETE', `/v2/${repo}/manifests/${sha(sbom)}`)).status, 202);
  assert.deepEqual(((await (await open.fetch('GET', `/v2/${repo}/referrers/${sha(manifest)}`)).json()) as { manifests: unknown[] }).manifests, []);
  assert.equal((await open.fetch('DELETE', `/v2/${repo}/manifests/${sha(manifest)}`)).status, 202);
  const afterDelete = await open.fetch('GET', `/v2/${repo}/manifests/${sha(manifest)}`);
  assert.equal(await errorCode(afterDelete), 'MANIFEST_UNKNOWN');
  assert.deepEqual(await (await open.fetch('GET', `/v2/${repo}/tags/list`)).json(), { name: repo, tags: ['docker', 'multi'] });
  assert.equal((await open.fetch('DELETE', `/v2/${repo}/manifests/${sha(manifest)}`)).status, 404);
  assert.equal((await open.fetch('DELETE', `/v2/${repo}/blobs/${sha(layer)}`)).status, 202);
  assert.equal((await open.fetch('HEAD', `/v2/${repo}/blobs/${sha(layer)}`)).status, 404);
  assert.equal(await errorCode(await open.fetch('DELETE', `/v2/${repo}/blobs/${sha(layer)}`)), 'BLOB_UNKNOWN');
});

test('tugd pushes to it, pulls back and runs; a second repository mounts the layers', async () => {
  const ref = `${open.host}/x/y:1`;
  ok(d.tug(['tag', 'busybox', ref]));
  const out = ok(d.tug(['push', ref]));
  assert.match(out, /: Pushed/);
  const digest = (await open.fetch('HEAD', '/v2/x/y/manifests/1', { headers: { Accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } })).headers.get('docker-content-digest');
  assert.match(out, new RegExp(`1: digest: ${digest} size: \\d+`));
  ok(d.tug(['rmi', ref]));
  ok(d.tug(['rmi', '-f', 'busybox']));
  const pulled = ok(d.tug(['pull', ref]));
  assert.match(pulled, /Pull complete/);
  assert.match(pulled, new RegExp(`Digest: ${digest}`));
  assert.equal(ok(d.tug(['run', '--rm', ref, 'echo', 'through tug registry'])), 'through tug registry\n');
  ok(d.tug(['tag', ref, 'busybox:latest']));

  const other = `${open.host}/x/copy:2`;
  ok(d.tug(['tag', ref, other]));
  const again = ok(d.tug(['push', other]));
  assert.match(again, /Mounted from x\/y/);
  assert.doesNotMatch(again, /: Pushed/);
});

test('search: tug and docker search find repositories by name, with descriptions and stars that persist', async () => {
  const found = ok(d.tug(['search', `${open.host}/x`]));
  assert.match(found, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL/);
  assert.match(found, new RegExp(`^${open.host.replace(/\./g, '\\.')}/x/y\\s+0`, 'm'));
  assert.match(ok(d.tug(['search', `${open.host}/lay`])), /layout made by the registry test/);
  assert.doesNotMatch(ok(d.tug(['search', '--filter', 'stars=1', `${open.host}/x`])), /x\/y/);

  const star = (method: string, user: string) => open.fetch(method, '/v1/repositories/x/y/star', { headers: { 'X-Star-User': user } });
  assert.deepEqual(await (await star('POST', 'ann')).json(), { name: 'x/y', star_count: 1 });
  assert.deepEqual(await (await star('POST', 'ann')).json(), { name: 'x/y', star_count: 1 }, 'one star per user');
  assert.deepEqual(await (await star('POST', 'ben')).json(), { name: 'x/y', star_count: 2 });
  assert.deepEqual(await (await star('DELETE', 'ben')).json(), { name: 'x/y', star_count: 1 });
  assert.equal(await errorCode(await open.fetch('POST', '/v1/repositories/no/such/star')), 'NAME_UNKNOWN');

  const api = (await (await open.fetch('GET', '/v1/search?q=x/&n=1')).json()) as { num_results: number; num_pages: number; page_size: number; query: string; results: Array<{ name: string; star_count: number; is_official: boolean; is_automated: boolean }> };
  assert.equal(api.query, 'x/');
  assert.equal(api.page_size, 1);
  assert.equal(api.num_results, 2);
  assert.equal(api.num_pages, 2);
  assert.deepEqual(api.results, [{ name: 'x/y', description: '', star_count: 1, is_official: false, is_automated: false }]);

  // stars survive a restart
  await open.stop();
  await open.start();
  const starred = ok(d.tug(['search', '--filter', 'stars=1', `${open.host}/x`]));
  assert.match(starred, new RegExp(`${open.host.replace(/\./g, '\\.')}/x/y\\s+1`));
  assert.doesNotMatch(starred, /x\/copy/);
  assert.match(ok(d.docker(['search', `${open.host}/x`])), /x\/y/);
});

test('htpasswd: 401 with a bearer challenge, basic or token access, tug login, push, pull and run', async () => {
  const host = locked.host;
  const anon = await fetch(`http://${host}/v2/`);
  assert.equal(anon.status, 401);
  assert.equal(await errorCode(anon), 'UNAUTHORIZED');
  assert.equal(anon.headers.get('www-authenticate'), `Bearer realm="http://${host}/token",service="tug-registry"`);
  const pull = await fetch(`http://${host}/v2/team/bb/tags/list`);
  assert.equal(pull.headers.get('www-authenticate'), `Bearer realm="http://${host}/token",service="tug-registry",scope="repository:team/bb:pull"`);
  const push = await fetch(`http://${host}/v2/team/bb/blobs/uploads/`, { method: 'POST' });
  assert.match(push.headers.get('www-authenticate') ?? '', /scope="repository:team\/bb:pull,push"/);
  const wrong = await fetch(`http://${host}/v2/`, { headers: { Authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
  assert.equal((await locked.fetch('GET', '/v2/')).status, 200, 'basic credentials');

  // the token service: basic in, a token for the scopes asked out
  const noCreds = await fetch(`http://${host}/token?service=tug-registry&scope=repository:team/bb:pull`);
  assert.equal(noCreds.status, 401);
  assert.equal(noCreds.headers.get('www-authenticate'), 'Basic realm="test-realm"');
  const tok = await locked.fetch('GET', '/token?service=tug-registry&scope=repository:team/bb:pull');
  assert.equal(tok.status, 200);
  const { token, access_token } = (await tok.json()) as { token: string; access_token: string };
  assert.equal(token, access_token);
  const bearer = { Authorization: `Bearer ${token}` };
  assert.equal((await fetch(`http://${host}/v2/`, { headers: bearer })).status, 200);
  assert.equal(await errorCode(await fetch(`http://${host}/v2/team/bb/tags/list`, { headers: bearer })), 'NAME_UNKNOWN', 'allowed, and nothing there yet');
  const short = await fetch(`http://${host}/v2/team/bb/blobs/uploads/`, { method: 'POST', headers: bearer });
  assert.equal(short.status, 401, 'a pull token does not push');
  assert.match(short.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  assert.equal((await fetch(`http://${host}/v2/other/repo/tags/list`, { headers: bearer })).status, 401, 'nor reach another repository');
  assert.equal((await fetch(`http://${host}/v2/`, { headers: { Authorization: `Bearer ${token.slice(0, -2)}xx` } })).status, 401, 'a tampered token');

  // skopeo goes through the token flow with its credentials
  locked.skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret', `oci:${layout.dir}:v1`, `docker://${host}/team/layout:v1`]);
  await locked.logged(/ alice "PUT \/v2\/team\/layout\/manifests\/v1 HTTP\/1\.1" 201 /);

  const ref = `${host}/team/bb:1`;
  ok(d.tug(['tag', 'busybox', ref]));
  const env = { TUG_CONFIG: join(d.dir, 'tug-config') };
  const denied = d.tug(['push', ref], undefined, env);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /denied|unauthorized/);
  const bad = d.tug(['login', '-u', 'alice', '--password-stdin', host], 'wrong\n', env);
  assert.equal(bad.code, 1);
  assert.match(ok(d.tug(['login', '-u', 'alice', '--password-stdin', host], 's3cret\n', env)), /Login Succeeded/);
  const pushed = ok(d.tug(['push', ref], undefined, env));
  assert.match(pushed, /1: digest: sha256:[0-9a-f]{64}/);
  ok(d.tug(['rmi', ref]));
  assert.notEqual(d.tug(['pull', ref]).code, 0, 'no credentials, no pull');
  assert.match(ok(d.tug(['pull', ref], undefined, env)), /Digest: sha256:[0-9a-f]{64}/);
  assert.equal(ok(d.tug(['run', '--rm', ref, 'echo', 'behind a login'], undefined, env)), 'behind a login\n');
  // a mount reads another repository: the challenge asks for both scopes, and the new token has them
  const copy = `${host}/team/cc:1`;
  ok(d.tug(['tag', ref, copy]));
  assert.match(ok(d.tug(['push', copy], undefined, env)), /Mounted from team\/bb/);
  assert.match(ok(d.tug(['search', `${host}/team`], undefined, env)), /team\/bb/);
  // stars by the authenticated user
  assert.deepEqual(await (await locked.fetch('POST', '/v1/repositories/team/bb/star')).json(), { name: 'team/bb', star_count: 1 });
});

test('gc deletes blobs no manifest refers to and keeps the rest; it refuses to run beside a server', async () => {
  const orphan = await open.putBlob('x/y', Buffer.from('nobody refers to me'));
  const busy = spawnSync(process.execPath, [TUG, 'registry', 'gc', '--root', open.root], { encoding: 'utf8' });
  assert.equal(busy.status, 1);
  assert.match(busy.stderr, /in use by registry serve/);
  const second = spawnSync(process.execPath, [TUG, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', open.root], { encoding: 'utf8', timeout: 10000 });
  assert.equal(second.status, 1, 'a second server on the same root');

  assert.equal(await open.stop(), 0, 'a clean exit on SIGTERM');
  assert.equal(existsSync(join(open.root, 'registry.lock')), false);
  const dry = spawnSync(process.execPath, [TUG, 'registry', 'gc', '--root', open.root, '--dry-run'], { encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`would delete blob ${orphan}`));
  assert.ok(existsSync(join(open.root, 'blobs', 'sha256', orphan.slice(7, 9), orphan.slice(7))));
  const real = spawnSync(process.execPath, [TUG, 'registry', 'gc', '--root', open.root], { encoding: 'utf8' });
  assert.equal(real.status, 0, real.stderr);
  assert.match(real.stdout, new RegExp(`deleting blob ${orphan}`));
  assert.match(real.stdout, /blobs deleted \(\d+ bytes\), \d+ in use/);
  assert.doesNotMatch(real.stdout, new RegExp(layout.manifestDigest));
  assert.equal(existsSync(join(open.root, 'blobs', 'sha256', orphan.slice(7, 9), orphan.slice(7))), false);

  // everything a manifest refers to is still there: both images copy out whole
  await open.start();
  assert.equal((await open.fetch('HEAD', `/v2/x/y/blobs/${orphan}`)).status, 404);
  open.skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${open.host}/lay/out:v1`, `oci:${join(work, 'again')}:v1`]);
  open.skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${open.host}/x/y:1`, `oci:${join(work, 'again')}:x`]);
});

test('the docker CLI pushes to it through tugd; skopeo reads the same digests from it and from Debian\'s registry', async () => {
  const deb = new DebianRegistry();
  await deb.start();
  try {
    const mine = `${open.host}/dk/bb:1`;
    ok(d.docker(['tag', 'busybox', mine]));
    assert.match(ok(d.docker(['push', mine])), /1: digest: sha256:[0-9a-f]{64}/);
    const theirs = `${deb.host}/dk/bb:1`;
    ok(d.tug(['tag', 'busybox', theirs]));
    ok(d.tug(['push', theirs]));
    const inspect = (ref: string) => {
      const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { Digest: string; Layers: string[] };
    };
    const a = inspect(mine);
    const b = inspect(theirs);
    assert.equal(a.Digest, b.Digest, 'the same manifest in both registries');
    assert.deepEqual(a.Layers, b.Layers);
    // and skopeo copies straight from one registry to the other
    const cp = spawnSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${mine}`, `docker://${deb.host}/dk/copied:2`], { encoding: 'utf8' });
    assert.equal(cp.status, 0, cp.stderr);
    assert.equal(inspect(`${deb.host}/dk/copied:2`).Digest, a.Digest);
    ok(d.tug(['rmi', mine, theirs]));
  } finally {
    await deb.stop();
  }
});
