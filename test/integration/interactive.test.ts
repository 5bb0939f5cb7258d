// Interactive sessions on real terminals (tmux): resize, detach with ctrl-p ctrl-q, re-attach, several clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { TestDaemon, REPO, eventually } from '../helpers/daemon.ts';
import { Terminals } from '../helpers/tmux.ts';

const d = new TestDaemon();
const t = new Terminals();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { t.close(); await d.cleanup(); });

const tug = (args: string) => `node ${REPO}/dist/tug.js -H ${d.host} ${args}`;
const docker = (args: string) => `DOCKER_HOST=${d.host} DOCKER_CONFIG=${join(d.dir, 'docker-config')} docker ${args}`;
const state = (name: string) => JSON.parse(d.tug(['inspect', name]).stdout)[0].State as { Status: string; ExitCode: number };

test('tug run -it: stty size follows the terminal, ctrl-p ctrl-q detaches, tug attach re-enters, exit 3 ends it', async () => {
  t.open('a1', tug('run -it --name it1 busybox sh'), { cols: 80, rows: 24 });
  await t.waitFor('a1', /# $/m);
  t.type('a1', 'stty size');
  await t.waitFor('a1', /^24 80\s*$/m);
  t.resize('a1', 101, 31);
  await new Promise((r) => setTimeout(r, 300));
  t.type('a1', 'stty size');
  await t.waitFor('a1', /^31 101\s*$/m);
  t.type('a1', 'echo $((6*7))');
  await t.waitFor('a1', /^42\s*$/m);
  t.keys('a1', 'C-p', 'C-q');
  assert.equal(await t.waitExit('a1'), 0);
  assert.equal(state('it1').Status, 'running');

  t.open('a2', tug('attach it1'));
  await new Promise((r) => setTimeout(r, 800));
  t.type('a2', 'echo back-$((1+1))');
  await t.waitFor('a2', /^back-2\s*$/m);
  t.type('a2', 'exit 3');
  assert.equal(await t.waitExit('a2'), 3);
  await eventually(() => state('it1').Status, (s) => s === 'exited');
  assert.equal(state('it1').ExitCode, 3);
});

test('docker run -it: detach with ctrl-p ctrl-q, docker attach, exit code 4', async () => {
  t.open('b1', docker('run -it --name it2 busybox sh'));
  await t.waitFor('b1', /# $/m);
  t.type('b1', 'echo $((6*7))');
  await t.waitFor('b1', /^42\s*$/m);
  t.keys('b1', 'C-p', 'C-q');
  assert.equal(await t.waitExit('b1'), 0);
  assert.equal(state('it2').Status, 'running');

  t.open('b2', docker('attach it2'));
  await new Promise((r) => setTimeout(r, 800));
  t.type('b2', 'echo again-$((2+2))');
  await t.waitFor('b2', /^again-4\s*$/m);
  t.type('b2', 'exit 4');
  assert.equal(await t.waitExit('b2'), 4);
  await eventually(() => state('it2').Status, (s) => s === 'exited');
});

test('custom --detach-keys and several clients attached at once see the same session', async () => {
  assert.equal(d.tug(['run', '-dit', '--name', 'shared', 'busybox', 'sh']).code, 0);
  t.open('c1', tug('attach --detach-keys ctrl-x,x shared'));
  t.open('c2', docker('attach shared'));
  await new Promise((r) => setTimeout(r, 1000));
  t.type('c1', 'echo multi-$((2+3))');
  await t.waitFor('c1', /^multi-5\s*$/m);
  await t.waitFor('c2', /^multi-5\s*$/m);
  t.keys('c1', 'C-x', 'x');
  assert.equal(await t.waitExit('c1'), 0);
  // the other client is still attached and still sees output
  t.type('c2', 'echo still-$((3+4))');
  await t.waitFor('c2', /^still-7\s*$/m);
  // the docker CLI's attach reports a detach as an error, exactly as it does against dockerd
  t.keys('c2', 'C-p', 'C-q');
  assert.equal(await t.waitExit('c2'), 1);
  assert.match(t.screen('c2'), /read escape sequence/);
  assert.equal(state('shared').Status, 'running');
  assert.equal(d.tug(['rm', '-f', 'shared']).code, 0);
});

test('bad input: attach to a stopped container, bad detach keys, bad resize sizes', async () => {
  assert.equal(d.tug(['create', '-it', '--name', 'idle', 'busybox', 'sh']).code, 0);
  const a = d.tug(['attach', 'idle']);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /You cannot attach to a stopped container, start it first/);
  const k = d.tug(['attach', '--detach-keys', 'ctrl-', 'idle']);
  assert.notEqual(k.code, 0);
  assert.match(k.stderr, /Invalid detach keys/);
  const missing = d.tug(['attach', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);

  assert.equal(d.tug(['run', '-dit', '--name', 'sized', 'busybox', 'sh']).code, 0);
  for (const q of ['h=-1&w=80', 'h=24&w=abc', 'h=24&w=70000', 'h=24']) {
    const r = await d.req('POST', `/containers/sized/resize?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(r.body.toString(), /invalid terminal (height|width)/);
  }
  assert.equal((await d.req('POST', '/containers/sized/resize?h=40&w=120')).status, 200);
  assert.match(d.tug(['exec', 'sized', 'stty', '-F', '/dev/console', 'size']).stdout, /^40 120\s*$/);
  const r = await d.req('POST', '/containers/idle/resize?h=40&w=120');
  assert.equal(r.status, 409);
  assert.match(r.body.toString(), /is not running/);
  assert.equal(d.tug(['rm', '-f', 'sized', 'idle']).code, 0);
});

test('the daemon detaches an attach stream on the key sequence and the container keeps running', async () => {
  assert.equal(d.tug(['run', '-dit', '--name', 'srvdetach', 'busybox', 'sh']).code, 0);
  const sock = connect(d.socket);
  let got = '';
  sock.on('data', (b: Buffer) => { got += b.toString('latin1'); });
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  sock.write('POST /v1.44/containers/srvdetach/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x,x HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
  await eventually(() => got, (s) => s.includes('101 UPGRADED'));
  sock.write('echo served-$((5*5))\r');
  await eventually(() => got, (s) => s.includes('served-25'));
  sock.write('\x18x');
  await closed;
  assert.equal(state('srvdetach').Status, 'running');
  assert.equal(d.tug(['rm', '-f', 'srvdetach']).code, 0);
});

test('attach without a TTY: multiplexed output, --sig-proxy=false leaves it running, signals reach it otherwise', async () => {
  assert.equal(d.tug(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; while true; do echo tick; echo tock >&2; sleep 0.2; done']).code, 0);
  const watch = (args: string[]) => {
    const p = spawn(process.execPath, [`${REPO}/dist/tug.js`, '-H', d.host, 'attach', ...args, 'ticker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = { out: '', err: '' };
    p.stdout.on('data', (b: Buffer) => { seen.out += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { seen.err += b.toString(); });
    const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    return { p, seen, exited };
  };
  const quiet = watch(['--no-stdin', '--sig-proxy=false']);
  await eventually(() => quiet.seen, (s) => s.out.includes('tick') && s.err.includes('tock'));
  assert.doesNotMatch(quiet.seen.out, /tock/, 'stderr stays on stderr');
  quiet.p.kill('SIGTERM');
  await quiet.exited;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(state('ticker').Status, 'running');

  const proxied = watch([]);
  await eventually(() => proxied.seen.out, (s) => s.includes('tick'));
  proxied.p.kill('SIGTERM');
  assert.equal(await proxied.exited, 7);
  assert.match(proxied.seen.out, /got-term/);
  assert.equal(state('ticker').ExitCode, 7);
  assert.equal(d.tug(['rm', 'ticker']).code, 0);
});
