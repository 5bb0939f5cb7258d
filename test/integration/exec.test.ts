// docker exec: a process in a running container's namespaces, its output, input, env, user and exit code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TestDaemon, DOCKER, eventually } from '../helpers/daemon.ts';
import { join } from 'node:path';

const d = new TestDaemon();
let id = '';
before(async () => {
  await d.start();
  await d.makeImages();
  id = d.tug(['run', '-d', '--name', 'target', '-e', 'FROM_RUN=1', 'busybox', 'sleep', '1000']).stdout.trim();
});
after(async () => { await d.cleanup(); });

test('exec runs in the container: same pid namespace and hostname, output split, exit code kept', () => {
  const r = d.tug(['exec', 'target', 'sh', '-c', 'hostname; ps -o pid,comm | grep -c sleep; echo oops >&2; exit 5']);
  assert.equal(r.code, 5);
  const [host, sleeps] = r.stdout.trim().split('\n');
  assert.equal(host, id.slice(0, 12));
  assert.equal(sleeps, '1', "the container's own process is visible");
  assert.equal(r.stderr, 'oops\n');
});

test('exec with -i, -e, -u, -w, and the container env inherited', () => {
  const piped = d.tug(['exec', '-i', 'target', 'sh', '-c', 'cat; echo end'], 'through stdin\n');
  assert.equal(piped.stdout, 'through stdin\nend\n');
  const r = d.tug(['exec', '-e', 'X=2', '-u', 'nobody', '-w', '/tmp', 'target', 'sh', '-c', 'echo $FROM_RUN $X $(id -u) $(pwd)']);
  assert.equal(r.stdout.trim(), '1 2 65534 /tmp');
});

test('exec -d runs in the background; a missing command is exit 126 with the runtime message', async () => {
  assert.equal(d.tug(['exec', '-d', 'target', 'sh', '-c', 'sleep 0.3; touch /tmp/marker']).code, 0);
  const seen = await eventually(() => d.tug(['exec', 'target', 'ls', '/tmp/marker']).code, (c) => c === 0);
  assert.equal(seen, 0);
  const missing = d.docker(['exec', 'target', 'no-such-command']);
  assert.equal(missing.code, 126);
  assert.match(missing.stdout + missing.stderr, /executable file not found/);
});

test('the docker CLI execs, and exec into a stopped or paused container is a clear error', () => {
  const r = d.docker(['exec', 'target', 'echo', 'via docker']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'via docker\n');
  assert.equal(d.tug(['pause', 'target']).code, 0);
  const paused = d.docker(['exec', 'target', 'true']);
  assert.notEqual(paused.code, 0);
  assert.match(paused.stderr, /is paused/);
  assert.equal(d.tug(['unpause', 'target']).code, 0);
  assert.equal(d.tug(['stop', '-t', '0', 'target']).code, 0);
  const stopped = d.docker(['exec', 'target', 'true']);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /is not running/);
});

test('exec and attached stdin work when the runtime state lives under a long path (attach sockets past sun_path\'s 107 bytes)', async () => {
  const long = new TestDaemon();
  const execRoot = join(long.dir, 'a-rather-long-directory-name-for-the-runtime-state-of-this-daemon');
  await long.start(['--exec-root', execRoot]);
  try {
    await long.makeImages();
    const id = long.tug(['run', '-d', 'busybox', 'sleep', '1000']).stdout.trim();
    assert.ok(join(execRoot, 's', id, 'attach').length > 107, 'the socket path is longer than sun_path holds');
    const out = long.tug(['exec', id, 'echo', 'reached']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'reached\n');
    assert.equal(long.tug(['exec', '-i', id, 'cat'], 'through stdin\n').stdout, 'through stdin\n');
    assert.equal(long.tug(['run', '-i', '--rm', 'busybox', 'cat'], 'run stdin\n').stdout, 'run stdin\n');
  } finally {
    await long.cleanup();
  }
});

test('a quick exec never loses its output, however soon it ends (300 in a row through the docker CLI)', { timeout: 120_000 }, () => {
  const id = d.tug(['run', '-d', 'busybox', 'sleep', '300']).stdout.trim();
  try {
    const r = spawnSync('bash', ['-c', `for i in $(seq 300); do ${DOCKER} exec ${id} echo "line $i"; done`], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') }, timeout: 110_000 });
    const lines = r.stdout.trim().split('\n');
    const missing = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`).filter((l) => !lines.includes(l));
    assert.deepEqual(missing, [], r.stderr);
  } finally { d.tug(['rm', '-f', id]); }
});
