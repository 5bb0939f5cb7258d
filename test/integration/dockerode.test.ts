// dockerode (the Node client most tools build on) drives tugd: a container's multiplexed logs split back into
// stdout and stderr, an exec's hijacked stdin and output, events as they happen, wait, list by label, and docker's
// 404 for what is not there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
let docker: Docker;
before(async () => { await d.start(); await d.makeImages(); docker = new Docker({ socketPath: d.socket }); });
after(async () => { await d.cleanup(); });

/** stdout and stderr of a multiplexed stream, once it ends. */
function split(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (b: Buffer) => { o += b.toString(); });
  err.on('data', (b: Buffer) => { e += b.toString(); });
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve) => stream.on('end', () => resolve({ out: o, err: e })));
}

test('dockerode: create, start, logs split by stream, exec with stdin, events, stop, wait, list, remove, 404', { timeout: 60_000 }, async () => {
  assert.equal(String(await docker.ping()), 'OK');
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; exec sleep 100'], Labels: { via: 'dockerode' } });
  const events = await docker.getEvents({ filters: { container: [c.id] } }) as NodeJS.ReadableStream;
  const seen: string[] = [];
  events.on('data', (b: Buffer) => { for (const l of b.toString().split('\n').filter(Boolean)) seen.push((JSON.parse(l) as { Action: string }).Action); });
  await c.start();
  assert.equal((await c.inspect()).State.Running, true);
  const listed = await docker.listContainers({ filters: { label: ['via=dockerode'] } });
  assert.deepEqual(listed.map((x) => x.Id), [c.id]);

  let logs = { out: '', err: '' };
  for (let i = 0; i < 50 && !logs.err; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    logs = await split(docker, Readable.from([await c.logs({ stdout: true, stderr: true, follow: false })]));
  }
  assert.equal(logs.out, 'to-out\n');
  assert.equal(logs.err, 'to-err\n');

  const exec = await c.exec({ Cmd: ['sh', '-c', 'cat; echo bye >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: true });
  const result = split(docker, stream);
  stream.end('through stdin\n');
  assert.deepEqual(await result, { out: 'through stdin\n', err: 'bye\n' });
  assert.equal((await exec.inspect()).ExitCode, 0);

  const waited = c.wait();
  await c.stop({ t: 1 });
  assert.equal((await waited).StatusCode, 137); // sh as PID 1 ignores SIGTERM
  for (let i = 0; i < 50 && !seen.includes('stop'); i++) await new Promise((r) => setTimeout(r, 50));
  (events as unknown as { destroy(): void }).destroy();
  assert.ok(['start', 'exec_create', 'exec_start', 'kill', 'die', 'stop'].every((a) => seen.some((s) => s === a || s.startsWith(`${a}:`))), seen.join(','));
  assert.ok(seen.indexOf('die') < seen.indexOf('stop'), 'stop comes after die, as docker sends them');

  await c.remove();
  await assert.rejects(docker.getContainer(c.id).inspect(), (e: { statusCode?: number; message?: string }) => e.statusCode === 404 && /No such container/.test(e.message ?? ''));
});
