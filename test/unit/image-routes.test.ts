import { ApiError } from '../../src/util/errors.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Router } from '../../src/api/router.js';
import { createApiServer } from '../../src/api/server.js';
import { registerImageRoutes } from '../../src/api/routes/images.js';
import { FileContentStore } from '../../src/services/content/store.js';
import { DirSnapshotStore } from '../../src/services/snapshots/store.js';
import { LocalImageService } from '../../src/services/images/store.js';
import { makeTar } from './_tar.js';

interface Res { status: number; body: string; json: <T = unknown>() => T }

test('image routes: import, list, inspect, history, tag, filters, delete', async () => {
  const base = mkdtempSync(join(tmpdir(), 'tug-imgapi-'));
  const content = new FileContentStore(join(base, 'content'));
  const snapshots = new DirSnapshotStore(join(base, 'snapshots'));
  const images = new LocalImageService({ root: join(base, 'images'), content, snapshots });
  await images.load();
  let user: string | undefined;
  const router = new Router();
  const missing = () => Promise.reject(new ApiError(404, 'manifest for busybox:latest not found: manifest unknown'));
  const events: string[] = [];
  const publish = (type: string, action: string, id: string, attrs: Record<string, string>) => { events.push(`${type} ${action} ${id} ${attrs.name}`); };
  registerImageRoutes(router, { images, imageInUse: () => user, puller: { pull: missing, pullAllTags: missing, search: missing }, pusher: { push: missing }, archives: { save: missing, load: missing }, checkLogin: missing, events: { publish } });
  const server = createApiServer(router);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const call = (method: string, path: string, body?: Buffer) => new Promise<Res>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text, json: <T,>() => JSON.parse(text) as T });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  try {
    const tar = await makeTar([{ name: 'etc/hostname', body: 'box' }]);
    let r = await call('POST', `/v1.44/images/create?fromSrc=-&repo=reg.local:5000/team/app&tag=v1&changes=${encodeURIComponent('CMD ["sh"]')}&changes=${encodeURIComponent('LABEL a=b')}`, gzipSync(tar));
    assert.equal(r.status, 200, r.body);
    const id = (JSON.parse(r.body.trim()) as { status: string }).status;
    assert.match(id, /^sha256:[a-f0-9]{64}$/);

    r = await call('GET', '/images/json');
    const list = r.json() as Array<Record<string, unknown>>;
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].RepoTags, ['reg.local:5000/team/app:v1']);
    assert.equal(list[0].Id, id);
    assert.equal(list[0].Size, 3);
    assert.equal(list[0].SharedSize, -1);
    assert.equal(list[0].Containers, -1);
    assert.deepEqual(list[0].Labels, { a: 'b' });
    assert.equal('VirtualSize' in list[0], false);
    assert.equal('VirtualSize' in (await call('GET', '/v1.41/images/json')).json<Record<string, unknown>[]>()[0], true);

    r = await call('GET', '/images/reg.local:5000/team/app:v1/json');
    assert.equal(r.status, 200, r.body);
    const ins = r.json() as { Id: string; Config: { Cmd: string[]; Env: null }; RootFS: { Layers: string[] }; GraphDriver: { Name: string; Data: { UpperDir: string } }; Os: string; Architecture: string };
    assert.equal(ins.Id, id);
    assert.deepEqual(ins.Config.Cmd, ['sh']);
    assert.equal(ins.Config.Env, null);
    assert.equal(ins.RootFS.Layers.length, 1);
    assert.equal(ins.GraphDriver.Name, 'overlay2');
    assert.equal(ins.GraphDriver.Data.UpperDir, images.lowerDirs(images.resolve(id)!)[0]);
    assert.equal(ins.Os, 'linux');
    assert.equal(ins.Architecture, 'amd64');

    r = await call('GET', `/images/${id.slice(7, 19)}/history`);
    const hist = r.json() as Array<{ Id: string; Comment: string; Size: number; Tags: string[] }>;
    assert.equal(hist.length, 1);
    assert.equal(hist[0].Id, id);
    assert.equal(hist[0].Comment, 'Imported from -');
    assert.equal(hist[0].Size, 3);

    assert.equal((await call('POST', `/images/${id}/tag?repo=busybox`)).status, 201);
    assert.equal((await call('POST', '/images/nope/tag?repo=x')).status, 404);
    assert.equal((await call('POST', `/images/${id}/tag?repo=Bad`)).status, 400);

    const ref = (f: unknown) => `/images/json?filters=${encodeURIComponent(JSON.stringify(f))}`;
    assert.deepEqual((await call('GET', ref({ reference: ['busy*'] }))).json<Array<{ RepoTags: string[] }>>().map((i) => i.RepoTags), [['busybox:latest']]);
    assert.equal((await call('GET', ref({ reference: { 'reg.local:5000/team/*:v1': true } }))).json<unknown[]>().length, 1);
    assert.equal((await call('GET', ref({ reference: ['other'] }))).json<unknown[]>().length, 0);
    assert.equal((await call('GET', ref({ dangling: ['true'] }))).json<unknown[]>().length, 0);
    assert.equal((await call('GET', ref({ label: ['a=b'] }))).json<unknown[]>().length, 1);
    assert.equal((await call('GET', ref({ label: ['a=c'] }))).json<unknown[]>().length, 0);
    assert.equal((await call('GET', ref({ bogus: ['x'] }))).status, 400);

    // a pull that fails before its first progress message is a plain HTTP error
    r = await call('POST', '/images/create?fromImage=busybox&tag=latest');
    assert.equal(r.status, 404);
    assert.match(r.body, /manifest for busybox:latest not found/);
    assert.equal((await call('POST', '/images/create?fromImage=Bad:Ref')).status, 400);
    assert.equal((await call('POST', '/images/create?fromSrc=http://x/y.tar')).status, 400);
    assert.equal((await call('POST', '/images/create?fromSrc=-', Buffer.from('junk'.repeat(200)))).status, 400);

    user = 'f'.repeat(64);
    r = await call('DELETE', '/images/busybox');
    assert.deepEqual(r.json(), [{ Untagged: 'busybox:latest' }]);
    r = await call('DELETE', '/images/reg.local:5000/team/app:v1');
    assert.equal(r.status, 409);
    assert.match(r.body, /container ffffffffffff is using its referenced image/);
    user = undefined;
    r = await call('DELETE', '/images/reg.local:5000/team/app:v1');
    assert.deepEqual(r.json(), [{ Untagged: 'reg.local:5000/team/app:v1' }, { Deleted: id }]);
    assert.equal((await call('GET', `/images/${id}/json`)).status, 404);
    assert.match((await call('DELETE', '/images/busybox')).body, /No such image: busybox:latest/);
    // docker's image events: import, tag, then an untag per reference and a delete when the image goes
    assert.deepEqual(events, [
      `image import ${id} ${id}`,
      `image tag ${id} busybox:latest`,
      `image untag ${id} ${id}`,
      `image untag ${id} ${id}`,
      `image delete ${id} ${id}`,
    ]);
  } finally {
    server.close();
    rmSync(base, { recursive: true, force: true });
  }
});
