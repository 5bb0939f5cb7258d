// Piped stdin: EOF reaches the process, output goes on, and 100 MB pass through intact both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TestDaemon, REPO } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

/** Pipe `input` into a CLI and hash what comes out on stdout, without holding it. */
function through(argv: string[], input: Buffer, env: Record<string, string> = {}): Promise<{ code: number | null; sha: string; bytes: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const h = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { h.update(b); bytes += b.length; });
    p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    p.stdin.on('error', () => undefined);
    p.stdin.end(input);
    p.on('close', (code) => resolve({ code, sha: h.digest('hex'), bytes, stderr }));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('echo hello | tug run -i --rm busybox cat prints hello and exits 0', () => {
  const r = d.tug(['run', '-i', '--rm', 'busybox', 'cat'], 'hello\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  // EOF closes the process's stdin while its output goes on
  const wc = d.tug(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'wc -l; echo after-eof'], 'a\nb\nc\n');
  assert.equal(wc.stdout.trim().split(/\s+/).join(' '), '3 after-eof');
});

test('100 MB through cat arrive intact, with tug and with the docker CLI', async () => {
  const data = randomBytes(100 << 20);
  const want = sha(data);
  const viaTug = await through([process.execPath, join(REPO, 'dist/tug.js'), '-H', d.host, 'run', '-i', '--rm', 'busybox', 'cat'], data);
  assert.equal(viaTug.code, 0, viaTug.stderr);
  assert.equal(viaTug.bytes, data.length);
  assert.equal(viaTug.sha, want);
  const inside = d.tug(['run', '-i', '--rm', 'busybox', 'sha256sum'], data);
  assert.equal(inside.stdout.split(/\s/)[0], want);
  const viaDocker = await through(['docker', 'run', '-i', '--rm', 'busybox', 'cat'], data, { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') });
  assert.equal(viaDocker.code, 0, viaDocker.stderr);
  assert.equal(viaDocker.sha, want);
});
