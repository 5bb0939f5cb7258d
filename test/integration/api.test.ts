// The Engine API contract clients depend on: versioning, headers, docker-style errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

test('ping, version and info answer on versioned and unversioned paths with docker headers', async () => {
  for (const p of ['/_ping', '/v1.44/_ping', '/v1.24/_ping']) {
    const r = await d.req('GET', p);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'OK');
    assert.equal(r.headers['api-version'], '1.44');
    assert.equal(r.headers['ostype'], 'linux');
    assert.match(String(r.headers['server']), /tugboat/);
  }
  assert.equal((await d.req('HEAD', '/_ping')).status, 200);
  const v = (await d.req('GET', '/v1.44/version')).json<{ ApiVersion: string; MinAPIVersion: string; Os: string }>();
  assert.equal(v.ApiVersion, '1.44');
  assert.equal(v.MinAPIVersion, '1.24');
  const info = (await d.req('GET', '/info')).json<{ NCPU: number; MemTotal: number; Images: number; Containers: number; DockerRootDir: string }>();
  assert.ok(info.NCPU >= 1);
  assert.ok(info.MemTotal > 100 * 1024 * 1024);
  assert.equal(info.Images, 2);
  assert.equal(info.Containers, 0);
  assert.equal(info.DockerRootDir, d.root);
  const old = await d.req('GET', '/v1.12/version');
  assert.equal(old.status, 400);
  assert.match(old.json<{ message: string }>().message, /too old/);
});

test('every container verb on a missing container is a 404 "No such container"', async () => {
  const calls: Array<[string, string]> = [
    ['GET', '/containers/nope/json'], ['POST', '/containers/nope/start'], ['POST', '/containers/nope/stop'],
    ['POST', '/containers/nope/kill'], ['POST', '/containers/nope/restart'], ['DELETE', '/containers/nope'],
    ['POST', '/containers/nope/wait'], ['GET', '/containers/nope/logs?stdout=1'], ['GET', '/containers/nope/top'],
    ['POST', '/containers/nope/pause'], ['POST', '/containers/nope/unpause'], ['POST', '/containers/nope/rename?name=x2'],
  ];
  for (const [m, p] of calls) {
    const r = await d.req(m, p);
    assert.equal(r.status, 404, `${m} ${p}`);
    assert.equal(r.json<{ message: string }>().message, 'No such container: nope');
  }
});

test('bad create requests get docker messages and leave nothing behind', async () => {
  const unknown = await d.req('POST', '/containers/create', { Image: 'nosuchimage' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json<{ message: string }>().message, 'No such image: nosuchimage:latest');

  const badJson = await d.req('POST', '/containers/create', Buffer.from('{"Image": '), { 'Content-Type': 'application/json' });
  assert.equal(badJson.status, 400);

  const badName = await d.req('POST', '/containers/create?name=-bad', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(badName.status, 400);
  assert.match(badName.json<{ message: string }>().message, /Invalid container name/);

  const tiny = await d.req('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 1024 } });
  assert.equal(tiny.status, 400);
  assert.match(tiny.json<{ message: string }>().message, /Minimum memory limit/);

  const ok = await d.req('POST', '/containers/create?name=dup', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(ok.status, 201);
  const dup = await d.req('POST', '/containers/create?name=dup', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(dup.status, 409);
  assert.match(dup.json<{ message: string }>().message, /The container name "\/dup" is already in use/);

  const list = (await d.req('GET', '/containers/json?all=1')).json<unknown[]>();
  assert.equal(list.length, 1, 'only the one good container exists');
  assert.equal((await d.req('DELETE', '/containers/dup')).status, 204);
  assert.equal((await d.req('POST', '/containers/dup/start')).status, 404, 'start of a removed container');
});

test('rm of a running container needs force', async () => {
  const c = (await d.req('POST', '/containers/create?name=busy', { Image: 'busybox', Cmd: ['sleep', '100'] })).json<{ Id: string }>();
  assert.equal((await d.req('POST', `/containers/${c.Id}/start`)).status, 204);
  assert.equal((await d.req('POST', `/containers/${c.Id}/start`)).status, 304);
  const rm = await d.req('DELETE', `/containers/${c.Id}`);
  assert.equal(rm.status, 409);
  assert.match(rm.json<{ message: string }>().message, /container is running/);
  assert.equal((await d.req('DELETE', `/containers/${c.Id}?force=1`)).status, 204);
  assert.equal((await d.req('GET', `/containers/${c.Id}/json`)).status, 404);
});

test('wait answers with headers at once and the exit code at exit', async () => {
  const c = (await d.req('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; exit 7'] })).json<{ Id: string }>();
  const waiting = d.req('POST', `/containers/${c.Id}/wait?condition=next-exit`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await d.req('POST', `/containers/${c.Id}/start`)).status, 204);
  const w = await waiting;
  assert.equal(w.status, 200);
  assert.equal(w.json<{ StatusCode: number }>().StatusCode, 7);
  await d.req('DELETE', `/containers/${c.Id}`);
});
