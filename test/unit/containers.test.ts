// Creating container records: merging with the image config and docker's validation messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecord } from '../../src/services/containers/create.ts';
import { ContainerStore } from '../../src/services/containers/store.ts';
import { signalNumber, exitCodeForStartError } from '../../src/services/containers/supervisor.ts';
import type { Image } from '../../src/services/images/types.ts';
import { ApiError } from '../../src/util/errors.ts';

const image: Image = {
  id: 'sha256:' + 'a'.repeat(64), repoTags: ['busybox:latest'], repoDigests: [], chainIds: [], size: 0, loaded: '',
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'], Env: ['PATH=/bin', 'A=image'], WorkingDir: '/w', Labels: { from: 'image' } } },
};
const make = (body: object) => buildRecord({ Image: 'busybox', ...body }, image, 'n1', 'busybox', ['runc', 'crun'], 'runc', (id) => `/logs/${id}`);

test('command, env, workdir and labels merge with the image config like docker', () => {
  const r = make({ Cmd: ['echo', 'hi'], Env: ['A=user', 'B=2'], Labels: { mine: 'yes' } });
  assert.equal(r.Path, 'echo');
  assert.deepEqual(r.Args, ['hi']);
  assert.deepEqual(r.Config.Env, ['PATH=/bin', 'A=user', 'B=2']);
  assert.equal(r.Config.WorkingDir, '/w');
  assert.deepEqual(r.Config.Labels, { from: 'image', mine: 'yes' });
  assert.equal(r.Config.Hostname, r.Id.slice(0, 12));
  assert.equal(make({}).Path, 'sh', 'image CMD is the default');
  const ep = make({ Entrypoint: ['/bin/env'] });
  assert.equal(ep.Path, '/bin/env');
  assert.deepEqual(ep.Args, [], 'a new entrypoint drops the image CMD');
  assert.equal(r.State.Status, 'created');
  assert.deepEqual(r.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
});

test('bad host configs are refused with docker messages', () => {
  const bad = (hc: object, msg: RegExp) => assert.throws(() => make({ Cmd: ['true'], HostConfig: hc }), (e: unknown) => e instanceof ApiError && e.status === 400 && msg.test(e.message));
  bad({ Memory: 100 }, /Minimum memory limit allowed is 6MB/);
  bad({ Memory: 64 << 20, MemorySwap: 32 << 20 }, /memoryswap limit should be larger/);
  bad({ NanoCpus: 1e12 }, /Range of CPUs/);
  bad({ RestartPolicy: { Name: 'sometimes' } }, /invalid restart policy/);
  bad({ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, /only be used with 'on-failure'/);
  bad({ AutoRemove: true, RestartPolicy: { Name: 'always' } }, /AutoRemove/);
  bad({ Runtime: 'kata' }, /unknown or invalid runtime name: kata/);
  bad({ LogConfig: { Type: 'syslog', Config: {} } }, /no log driver named 'syslog'/);
  bad({ NetworkMode: 'none', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, /published ports need a network/);
  bad({ PortBindings: { '80/tcp': [{ HostPort: '99999' }] } }, /invalid port specification/);
  bad({ PortBindings: { 'http': [{ HostPort: '80' }] } }, /invalid port specification/);
  bad({ NetworkMode: 'container:other', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, /conflicting options: port publishing/);
  bad({ NetworkMode: 'container:other', Dns: ['1.1.1.1'] }, /conflicting options: dns/);
  bad({ ExtraHosts: ['nohost'] }, /invalid extra host "nohost"/);
  assert.throws(() => buildRecord({ Image: 'x' }, { ...image, config: { ...image.config, config: {} } }, 'n', 'x', ['runc'], 'runc', () => ''), /No command specified/);
});

/** A loaded store in a directory of its own, removed afterwards. */
async function withStore(fn: (s: ContainerStore, root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tugstore-'));
  try {
    const s = new ContainerStore(root);
    await s.load();
    await fn(s, root);
  } finally { rmSync(root, { recursive: true, force: true }); }
}

test('store: names are unique and valid, lookups by name, full ID and unique prefix', () => withStore(async (s, root) => {
  const a = make({ Cmd: ['true'] });
  s.reserveName('web', a.Id);
  a.Name = 'web';
  await s.add(a);
  assert.throws(() => s.reserveName('web', 'other'), (e: unknown) => e instanceof ApiError && e.status === 409);
  assert.throws(() => s.reserveName('x', 'other'), (e: unknown) => e instanceof ApiError && e.status === 400);
  assert.equal(s.get('web').Id, a.Id);
  assert.equal(s.get(a.Id.slice(0, 5)).Id, a.Id);
  assert.throws(() => s.get('nope'), /No such container: nope/);
  const again = new ContainerStore(root);
  await again.load();
  assert.equal(again.get('/web').Id, a.Id, 'records survive a reload');
}));

test('store: saves not awaited land in the order asked; a removal waits for them and leaves nothing behind', () => withStore(async (s, root) => {
  const a = make({ Cmd: ['true'] });
  await s.add(a);
  // each save writes the record as it is then; the last one asked is what a reload finds
  const saves: Array<Promise<void>> = [];
  for (let i = 1; i <= 50; i++) {
    a.RestartCount = i;
    saves.push(s.save({ ...a, State: { ...a.State } }));
  }
  await Promise.all(saves);
  const reloaded = new ContainerStore(root);
  await reloaded.load();
  assert.equal(reloaded.get(a.Id).RestartCount, 50);
  const b = make({ Cmd: ['true'] });
  await s.add(b);
  void s.save(b);
  await s.remove(b);
  assert.deepEqual(readdirSync(root).filter((n) => !n.startsWith('.')), [a.Id]);
  assert.equal(s.find(b.Id), undefined);
}));

test('signals by name or number, and exit codes for start failures', () => {
  assert.equal(signalNumber('SIGTERM', 9), 15);
  assert.equal(signalNumber('term', 9), 15);
  assert.equal(signalNumber('9', 15), 9);
  assert.equal(signalNumber(undefined, 9), 9);
  assert.throws(() => signalNumber('SIGNOPE', 9), /Invalid signal/);
  assert.equal(exitCodeForStartError('exec: "x": executable file not found in $PATH'), 127);
  assert.equal(exitCodeForStartError('exec /etc/passwd: permission denied'), 126);
});
