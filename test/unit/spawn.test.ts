// posix_spawn through koffi: the child's descriptors, directory, session and signals, its exit status, and failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import { ProgramError, runProgram, spawnProcess } from '../../src/sys/spawn.ts';

function readAll(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.on('data', (d: Buffer) => { out += d.toString(); });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

const openFds = () => readdirSync('/proc/self/fd').length;

test('a spawned child reads and writes the pipes it was given, in its directory, and its exit status comes back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-'));
  try {
    const before = openFds();
    const script = 'pwd >&3; read line <&4; echo "got $line" >&3; echo oops >&2; exit 7';
    const child = spawnProcess('/bin/sh', ['-c', script], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, fds: ['null', 'null', 'read', 'read', 'write'] });
    const [, , err, out, input] = child.pipes as Socket[];
    input.end('hello\n');
    const [o, e, status] = await Promise.all([readAll(out), readAll(err), child.exited]);
    assert.equal(o, `${dir}\ngot hello\n`);
    assert.equal(e, 'oops\n');
    assert.equal(status, 7);
    for (const p of [err, out, input]) p.destroy();
    await new Promise((r) => setImmediate(r));
    assert.equal(openFds(), before, 'no descriptor of the parent is left open');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the child has a session of its own, default signal handling and no blocked signal', async () => {
  const run = async (file: string, args: string[]) => {
    const child = spawnProcess(file, args, { cwd: '/', env: {}, fds: ['null', 'read', 'null'], session: true });
    const out = await readAll(child.pipes[1] as Socket);
    assert.equal(await child.exited, 0);
    return out.trim();
  };
  const [pid, session] = (await run('/usr/bin/cut', ['-d', ' ', '-f', '1,6', '/proc/self/stat'])).split(' ');
  assert.equal(session, pid, 'the child leads its own session');
  // node ignores SIGPIPE, glibc's posix_spawn its own two signals: the child must inherit neither
  const signals = await run('/bin/grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status']);
  assert.match(signals, /^SigBlk:\s+0+$/m);
  assert.match(signals, /^SigIgn:\s+0+$/m);
});

test('the child gets its given descriptors and none of the parent\'s others', async () => {
  const ls = spawnProcess('/bin/ls', ['-1', '/proc/self/fd'], { cwd: '/', env: {}, fds: ['null', 'read', 'null', 'null'] });
  const fds = (await readAll(ls.pipes[1] as Socket)).trim().split('\n').map(Number);
  // what this process itself was given without close-on-exec goes to every child (child_process's too)
  const inherited = execFileSync('/bin/ls', ['-1', '/proc/self/fd'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n').map(Number).filter((fd) => fd > 3);
  // 0–3, and 4: the directory ls reads
  assert.deepEqual(fds.sort((a, b) => a - b), [0, 1, 2, 3, 4, ...inherited].sort((a, b) => a - b));
});

test('a signal that ends the child shows as 128 + its number', async () => {
  const child = spawnProcess('/bin/sh', ['-c', 'kill -TERM $$'], { cwd: '/', env: {}, fds: ['null', 'null', 'null'] });
  assert.equal(await child.exited, 143);
});

test('a program that does not exist is an error at once, and leaves no descriptor behind', () => {
  const before = openFds();
  assert.throws(() => spawnProcess('/nonexistent/conmon', [], { cwd: '/', env: {}, fds: ['null', 'read', 'write'] }), /nonexistent\/conmon: No such file or directory/);
  assert.equal(openFds(), before);
});

test('runProgram: a program found in PATH, its input and output; a failure carries its status and output', async () => {
  const env = { PATH: '/usr/bin:/bin' };
  assert.deepEqual(await runProgram('sh', ['-c', 'tr a-z A-Z; echo note >&2'], { env, input: 'hello\n' }), { stdout: 'HELLO\n', stderr: 'note\n' });
  // no input: stdin is /dev/null, so a reader ends at once
  assert.deepEqual(await runProgram('cat', [], { env }), { stdout: '', stderr: '' });
  const failed = await runProgram('sh', ['-c', 'echo partial; echo "it broke" >&2; exit 3'], { env }).catch((e: unknown) => e);
  assert.ok(failed instanceof ProgramError);
  assert.equal(failed.code, 3);
  assert.equal(failed.stdout, 'partial\n');
  assert.equal(failed.stderr, 'it broke\n');
  assert.match(failed.message, /^Command failed: sh -c .*\nit broke\n$/s);
  await assert.rejects(runProgram('no-such-program-here', [], { env }), (e: ProgramError) => e.code === 'ENOENT' && /No such file or directory/.test(e.message));
});

test('runProgram: many at once all come back with their own status', async () => {
  const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => runProgram('/bin/sh', ['-c', `exit ${i % 7}`]).then(() => 0, (e: ProgramError) => e.code)));
  assert.deepEqual(codes, Array.from({ length: 40 }, (_, i) => i % 7));
});
