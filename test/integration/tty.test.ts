// Interactive containers under a real pseudo-terminal (util-linux `script` gives the CLI a pty).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { TestDaemon, REPO } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

/** Run a CLI command on a pty, feed it lines with pauses, and return its screen output and exit code. */
function onPty(command: string, lines: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    let i = 0;
    const feed = () => {
      if (i < lines.length) { p.stdin.write(`${lines[i++]}\n`); setTimeout(feed, 700); }
    };
    setTimeout(feed, 1200);
    const killer = setTimeout(() => p.kill('SIGKILL'), 20000);
    p.on('exit', (code) => { clearTimeout(killer); resolve({ code: code ?? -1, out }); });
  });
}

test('tug run -it: a shell answers on the terminal and its exit code is the CLI exit code', async () => {
  const r = await onPty(`node ${REPO}/dist/tug.js -H ${d.host} run -it --rm busybox sh`, ['echo $((6*7))', 'tty', 'exit 3']);
  assert.match(r.out, /\b42\b/);
  assert.match(r.out, /\/dev\/pts\/0/);
  assert.equal(r.code, 3);
});

test('docker exec -it into a running container gets a terminal', async () => {
  assert.equal(d.tug(['run', '-d', '--name', 'box', 'busybox', 'sleep', '1000']).code, 0);
  const r = await onPty(`DOCKER_HOST=${d.host} DOCKER_CONFIG=${d.dir}/docker-config docker exec -it box sh`, ['echo $((7*6))', 'exit 2']);
  assert.match(r.out, /\b42\b/);
  assert.equal(r.code, 2);
});
