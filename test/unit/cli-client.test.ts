// The API client and the `tug` binary end to end against a fake daemon on a temp unix socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EngineClient } from '../../src/client/api.ts';
import { EngineError, ConnectError } from '../../src/client/errors.ts';
import { Demuxer } from '../../src/client/stdcopy.ts';
import { parseHost, resolveHost } from '../../src/client/host.ts';
import { startFakeDaemon, type FakeDaemon } from './cli-fakedaemon.ts';

let d: FakeDaemon;
before(async () => { d = await startFakeDaemon(); });
after(async () => { await d.close(); });

const cliEntry = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function tug(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { env: { ...process.env, TUG_HOST: d.host, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    if (opts.stdin !== undefined) p.stdin.end(opts.stdin); else p.stdin.end();
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('host resolution: flag, TUG_HOST, DOCKER_HOST, default', () => {
  assert.equal(resolveHost('unix:///a', { TUG_HOST: 'unix:///b' }), 'unix:///a');
  assert.equal(resolveHost(undefined, { TUG_HOST: 'unix:///b', DOCKER_HOST: 'unix:///c' }), 'unix:///b');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///c' }), 'unix:///c');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/tugboat/tugboat.sock');
  assert.deepEqual(parseHost('unix:///x/y.sock'), { kind: 'unix', socketPath: '/x/y.sock', display: 'unix:///x/y.sock' });
  const t = parseHost('tcp://10.0.0.1:2375');
  assert.equal(t.kind, 'tcp');
  assert.throws(() => parseHost('ftp://x'));
});

test('versioned paths, JSON bodies and daemon errors', async () => {
  const c = new EngineClient(d.host);
  const r = await c.containerCreate({ Image: 'busybox', Cmd: ['true'], HostConfig: {} }, 'web');
  const req = d.requests.at(-1)!;
  assert.equal(req.url, '/v1.44/containers/create?name=web');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(req.body).Cmd, ['true']);
  assert.ok(r.Id.length === 64);
  await assert.rejects(c.containerInspect('nothing'), (e: unknown) => e instanceof EngineError && e.status === 404 && e.message === 'No such container: nothing');
  await assert.rejects(new EngineClient('unix:///nonexistent/x.sock').ping(), (e: unknown) => e instanceof ConnectError);
});

test('filters are sent as JSON, booleans as 1', async () => {
  const c = new EngineClient(d.host);
  await c.containerList({ all: true, filters: { status: ['exited'], label: ['a=b'] } });
  const u = new URL(d.requests.at(-1)!.url, 'http://x');
  assert.equal(u.searchParams.get('all'), '1');
  assert.deepEqual(JSON.parse(u.searchParams.get('filters')!), { status: ['exited'], label: ['a=b'] });
});

test('hijacked attach: demuxed output, stdin half-close, wait resolves after start', async () => {
  const c = new EngineClient(d.host);
  const { Id } = await c.containerCreate({ Image: 'busybox', HostConfig: {} });
  d.containers.get(Id)!.script = { echoStdin: true, stdout: 'hi\n', exitCode: 7 };
  const h = await c.containerAttach(Id, { stdin: true, stdout: true, stderr: true });
  assert.ok(h.multiplexed);
  const w = await c.containerWait(Id, 'next-exit');
  await c.containerStart(Id);
  const out: string[] = [];
  const dm = new Demuxer((s, p) => out.push(`${s}:${p}`));
  h.socket.on('data', (b: Buffer) => dm.push(b));
  h.socket.resume();
  h.socket.write('abc');
  h.socket.end(); // stdin EOF; output keeps flowing
  await new Promise((r) => h.socket.on('end', r));
  assert.deepEqual(out, ['1:hi\n', '1:stdin:abc']);
  assert.deepEqual(await w.result, { StatusCode: 7, Error: null });
});

test('tug run: create → attach → wait → start, output relayed, container exit code', async () => {
  const before = d.requests.length;
  const r = await tug(['run', '--name', 'x1', 'busybox', 'sh', '-c', 'echo hello']);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.stderr, 'oops\n');
  assert.equal(r.code, 3);
  const seq = d.requests.slice(before).map((q) => `${q.method} ${q.url.split('?')[0]}`);
  assert.equal(seq[0], 'POST /v1.44/containers/create');
  assert.match(seq[1], /^POST \/v1\.44\/containers\/\w+\/attach$/);
  assert.match(seq[2], /\/wait$/);
  assert.match(seq[3], /\/start$/);
  const attach = new URL(d.requests[before + 1].url, 'http://x');
  assert.equal(attach.searchParams.get('stream'), '1');
  assert.equal(attach.searchParams.get('stdin'), null);
  assert.equal(new URL(d.requests[before + 2].url, 'http://x').searchParams.get('condition'), 'next-exit');
});

test('tug run -i pipes stdin and half-closes; --rm waits for removal', async () => {
  const before = d.requests.length;
  const pending = tug(['run', '-i', '--rm', 'busybox', 'cat'], { stdin: 'piped data' });
  // the fake container echoes stdin only when asked; flip the script once it exists
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    const c = [...d.containers.values()].find((x) => (x.body.Cmd as string[] | undefined)?.[0] === 'cat' && !x.started);
    if (c) { c.script = { echoStdin: true, exitCode: 0 }; break; }
    await new Promise((r) => setTimeout(r, 5));
  }
  const r = await pending;
  assert.equal(r.stdout, 'stdin:piped data');
  assert.equal(r.code, 0);
  const create = JSON.parse(d.requests[before].body);
  assert.equal(create.OpenStdin, true);
  assert.equal(create.StdinOnce, true);
  assert.equal(create.AttachStdin, true);
  assert.equal(create.HostConfig.AutoRemove, true);
  const wait = d.requests.slice(before).find((q) => q.url.includes('/wait'))!;
  assert.equal(new URL(wait.url, 'http://x').searchParams.get('condition'), 'removed');
});

test('tug run -d prints the full ID', async () => {
  const r = await tug(['run', '-d', 'busybox', 'sleep', '1']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
});

test('tug run: missing image → "Unable to find image" and 125; bad command → 127', async () => {
  let r = await tug(['run', 'missing']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^Unable to find image 'missing:latest' locally\n/);
  // the missing image is pulled, and the pull's failure is what the user sees
  assert.match(r.stderr, /tug: Error response from daemon: pull access denied for missing, repository does not exist/);
  assert.doesNotMatch(r.stderr, /Using default tag/);
  r = await tug(['run', '--pull', 'never', 'missing']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /tug: Error response from daemon: No such image: missing:latest/);
  r = await tug(['create', 'missing']);
  assert.equal(r.code, 1, 'create reports daemon errors like other commands');
  assert.equal(r.stderr, "Unable to find image 'missing:latest' locally\nError response from daemon: pull access denied for missing, repository does not exist or may require 'docker login'\n");
  r = await tug(['run', 'busybox', 'nope']);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /executable file not found/);
});

test('flag errors exit 125 with a usage hint; other daemon errors exit 1', async () => {
  let r = await tug(['run', '--bogus', 'busybox']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^unknown flag: --bogus\n\nUsage: {2}tug run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nRun 'tug run --help' for more information\n$/);
  r = await tug(['ps', '--nope']);
  assert.equal(r.code, 125);
  r = await tug(['stop', 'ghost']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: No such container: ghost\n');
  r = await tug(['inspect', 'ghost']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '[]\n');
  assert.equal(r.stderr, 'Error: No such object: ghost\n');
  r = await tug(['run', '--rm', '--restart', 'always', 'busybox']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /conflicting options/);
});

test('tug logs demultiplexes; tug inspect -f renders templates', async () => {
  const c = new EngineClient(d.host);
  const { Id } = await c.containerCreate({ Image: 'busybox', HostConfig: {} }, 'logme');
  let r = await tug(['logs', 'logme']);
  assert.equal(r.stdout, 'out line\n');
  assert.equal(r.stderr, 'err line\n');
  r = await tug(['inspect', '-f', '{{.Name}} {{.State.ExitCode}} {{json .Config.Labels}}', Id]);
  assert.equal(r.stdout, '/logme 3 {"a":"b"}\n');
  await tug(['logs', '--since', '10m', '--tail', '5', 'logme']);
  const q = new URL(d.requests.at(-1)!.url, 'http://x').searchParams;
  assert.match(q.get('since')!, /^\d+\.\d{9}$/);
  assert.equal(q.get('tail'), '5');
});

test('tug exec: create, hijacked start, exit code from exec inspect; tug port', async () => {
  const c = new EngineClient(d.host);
  await c.containerCreate({ Image: 'busybox', HostConfig: {} }, 'ex1');
  const before = d.requests.length;
  let r = await tug(['exec', '-e', 'A=1', '-w', '/tmp', 'ex1', 'ls', '-l']);
  assert.equal(r.stdout, 'exec:ls -l\n');
  assert.equal(r.code, 5);
  const create = JSON.parse(d.requests[before].body);
  assert.deepEqual(create.Cmd, ['ls', '-l']);
  assert.deepEqual(create.Env, ['A=1']);
  assert.equal(create.WorkingDir, '/tmp');
  assert.equal(create.AttachStdin, false);
  r = await tug(['port', 'ex1']);
  assert.equal(r.stdout, '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n');
  r = await tug(['port', 'ex1', '9000']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Error: No public port '9000/tcp' published for ex1\n");
});

test('the command word picks the one command defined; global flags and their values before it are skipped; help and unknown words get the whole tree', async () => {
  const help = await tug(['--help']);
  assert.equal(help.code, 0);
  for (const name of ['run', 'ps', 'build', 'container', 'image', 'network', 'volume', 'registry', 'system']) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'), name);
  const ps = await tug(['-l', 'debug', '-H', d.host, 'ps', '-q']);
  assert.equal(ps.code, 0, ps.stderr);
  const sub = await tug(['--log-level', 'info', 'network', 'ls', '--bogus']);
  assert.match(sub.stderr, /^unknown flag: --bogus\n\nUsage: {2}tug network ls/);
  const unknown = await tug(['-D', 'frobnicate']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command: tug frobnicate/);
});
