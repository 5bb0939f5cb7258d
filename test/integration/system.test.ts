// system df / prune, image prune, events windows and filters, info counts — through tug and the docker CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, REPO } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const dfRow = (text: string, type: string) => {
  const line = text.split('\n').find((l) => l.startsWith(type));
  assert.ok(line, `no ${type} row in:\n${text}`);
  return line.slice(type.length).trim().split(/\s{2,}/);
};

test('system df: container sizes from what they wrote, image counts, the same through docker', async () => {
  ok(d.tug(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'head -c 3000000 /dev/zero > /big']));
  ok(d.tug(['run', '-d', '--name', 'idle', 'busybox', 'sleep', '1000']));
  const [total, active, size, reclaimable] = dfRow(ok(d.tug(['system', 'df'])), 'Containers');
  assert.equal(total, '2');
  assert.equal(active, '1');
  assert.match(size, /^3(\.0\d*)?MB$/, size);
  assert.match(reclaimable, /^3(\.0\d*)?MB \(\d+%\)$/, reclaimable);
  const images = dfRow(ok(d.tug(['system', 'df'])), 'Images');
  assert.equal(images[0], '2'); // busybox and hello-world
  assert.equal(images[1], '1'); // only busybox has containers

  const viaDocker = dfRow(ok(d.docker(['system', 'df'])), 'Containers');
  assert.deepEqual(viaDocker.slice(0, 3), [total, active, size]);
  const verbose = ok(d.docker(['system', 'df', '-v']));
  assert.match(verbose, /writer/);
  assert.match(verbose, /busybox\s+latest/);
  const mine = ok(d.tug(['system', 'df', '-v']));
  assert.match(mine, /Containers space usage:[\s\S]*writer/);

  // a container that starts again and writes more is measured again
  ok(d.tug(['start', '-a', 'writer']));
  const again = dfRow(ok(d.tug(['system', 'df'])), 'Containers');
  assert.equal(again[2], size, 'rewriting the same file keeps the size');
  ok(d.tug(['rm', '-f', 'idle']));
});

test('info counts containers and images as they are', () => {
  ok(d.tug(['run', '-d', '--name', 'counted', 'busybox', 'sleep', '1000']));
  ok(d.tug(['create', '--name', 'made', 'busybox', 'true']));
  ok(d.tug(['pause', 'counted']));
  const info = JSON.parse(ok(d.tug(['info', '--format', '{{json .}}'])));
  const all = ok(d.tug(['ps', '-aq'])).trim().split('\n').length;
  assert.equal(info.Containers, all);
  assert.equal(info.ContainersPaused, 1);
  assert.equal(info.ContainersRunning, 0);
  assert.equal(info.ContainersStopped, all - 1);
  assert.equal(info.Images, ok(d.tug(['images', '-aq'])).trim().split('\n').length);
  ok(d.tug(['unpause', 'counted']));
  ok(d.tug(['rm', '-f', 'counted', 'made']));
});

test('image prune removes dangling images, -a unused ones; system prune keeps what runs', async () => {
  ok(d.tug(['run', '-d', '--name', 'keeper', 'busybox', 'sleep', '1000']));
  ok(d.tug(['create', '--name', 'stopped1', 'busybox', 'true']));
  // a dangling image: imported without a tag
  const tar = join(d.dir, 'hw.tar');
  const mk = spawnSync('bash', [join(REPO, 'scripts/make-images.sh'), '--tar', 'hello-world', tar], { encoding: 'utf8' });
  assert.equal(mk.status, 0, mk.stderr);
  const dangling = ok(d.tug(['import', tar])).trim();
  assert.match(ok(d.tug(['images', '--filter', 'dangling=true', '-q', '--no-trunc'])), new RegExp(dangling.replace('sha256:', '')));

  const pruned = ok(d.tug(['image', 'prune', '-f']));
  assert.match(pruned, /Deleted Images:\ndeleted: sha256:/);
  assert.match(pruned, /Total reclaimed space: /);
  assert.equal(ok(d.tug(['images', '--filter', 'dangling=true', '-q'])).trim(), '');
  assert.match(ok(d.tug(['images'])), /hello-world/, 'tagged images stay without -a');

  // without -f and with "n" on stdin nothing goes
  const declined = d.tug(['system', 'prune'], 'n\n');
  assert.match(declined.stdout, /WARNING! This will remove:/);
  assert.match(ok(d.tug(['ps', '-a'])), /stopped1/);

  const sys = ok(d.docker(['system', 'prune', '-a', '-f']));
  assert.match(sys, /Deleted Containers:[\s\S]*Deleted Images:[\s\S]*untagged: hello-world:latest/);
  assert.doesNotMatch(ok(d.tug(['ps', '-a'])), /stopped1|writer/);
  assert.match(ok(d.tug(['ps'])), /keeper/, 'running containers stay');
  assert.match(ok(d.tug(['images'])), /busybox/, 'images in use stay');
  assert.doesNotMatch(ok(d.tug(['images'])), /hello-world/);
  ok(d.tug(['rm', '-f', 'keeper']));
  await d.makeImages();
});

test('events: the sequence docker 20.10 sends for run, stop, start, kill, rm, run --rm, tag and rmi (network connects, attach, kill before die, stop after the cleanup)', () => {
  const t0 = (Date.now() / 1000).toFixed(3); // what earlier tests did stays out of the window
  ok(d.docker(['run', '-d', '--name', 'seq1', 'busybox', 'sleep', '100']));
  ok(d.docker(['stop', '-t', '1', 'seq1']));
  ok(d.docker(['start', 'seq1']));
  ok(d.docker(['kill', 'seq1']));
  ok(d.docker(['rm', 'seq1']));
  ok(d.docker(['run', '--rm', 'busybox', 'true']));
  ok(d.docker(['tag', 'busybox', 'seqimg:1']));
  ok(d.docker(['rmi', 'seqimg:1']));
  const t1 = Math.floor(Date.now() / 1000) + 1;
  const seen = ok(d.docker(['events', '--since', String(t0), '--until', String(t1), '--format', '{{.Type}} {{.Action}}'])).trim().split('\n');
  // recorded from a real dockerd 20.10 doing the same (sleep as PID 1 ignores SIGTERM: stop sends SIGKILL after 1 s)
  assert.deepEqual(seen, [
    'container create', 'network connect', 'container start',
    'container kill', 'container kill', 'container die', 'network disconnect', 'container stop',
    'network connect', 'container start',
    'container kill', 'container die', 'network disconnect',
    'container destroy',
    'container create', 'container attach', 'network connect', 'container start', 'container die', 'network disconnect', 'container destroy',
    'image tag', 'image untag',
  ]);
});

test('events: a past window ends by itself, filters narrow it, bad filters are refused', () => {
  const t0 = Math.floor(Date.now() / 1000) - 1;
  ok(d.tug(['run', '--name', 'ev1', '-l', 'team=blue', 'busybox', 'true']));
  ok(d.tug(['rm', 'ev1']));
  const t1 = Math.floor(Date.now() / 1000) + 1;
  const all = ok(d.docker(['events', '--since', String(t0), '--until', String(t1), '--filter', 'container=ev1', '--format', '{{.Action}}']));
  assert.deepEqual(all.trim().split('\n').filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)), ['create', 'start', 'die', 'destroy']);
  const dies = ok(d.tug(['events', '--since', String(t0), '--until', String(t1), '--filter', 'event=die', '--filter', 'label=team=blue']));
  assert.match(dies, /container die [0-9a-f]{64} \(.*exitCode=0.*name=ev1.*team=blue.*\)/);
  assert.equal(dies.trim().split('\n').length, 1);
  const json = JSON.parse(ok(d.tug(['events', '--since', String(t0), '--until', String(t1), '--filter', 'event=start', '--filter', 'container=ev1', '--format', 'json'])).trim());
  assert.equal(json.status, 'start');
  assert.equal(json.Actor.Attributes.name, 'ev1');
  // templates name the fields as docker's do (Go names), while {{json .}} keeps the wire names
  const [line] = ok(d.tug(['events', '--since', String(t0), '--until', String(t1), '--filter', 'event=start', '--filter', 'container=ev1',
    '--format', '{{.Status}} {{.ID}} {{.From}} {{.Scope}} {{.Time}} {{.TimeNano}} {{json .}}'])).trim().split('\n');
  const [status, id, from, scope, time, timeNano, ...rest] = line.split(' ');
  assert.deepEqual([status, id, from, scope, time, timeNano], ['start', json.id, 'busybox', 'local', String(json.time), String(json.timeNano)]);
  assert.deepEqual(Object.keys(JSON.parse(rest.join(' '))), Object.keys(json));
  // a network event has no status or image: empty, as Go prints a struct's empty strings
  const net = ok(d.tug(['events', '--since', String(t0), '--until', String(t1), '--filter', 'type=network', '--format', '[{{.Status}}|{{.From}}] {{.Action}}']));
  assert.match(net, /^\[\|\] connect$/m);

  const bad = d.docker(['events', '--since', String(t0), '--until', String(t1), '--filter', 'colour=red']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid filter 'colour'/);
  const badTug = d.tug(['events', '--until', 'yesterday-ish']);
  assert.equal(badTug.code, 1);
  assert.match(badTug.stderr, /invalid value for "until"/);
});
