import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseRuncInit } from '../../src/services/runtime/exec-fifo.js';

// A state directory with runc's exec fifo in it; a shell plays the container's init.
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tug-fifo-'));
  assert.equal(spawnSync('mkfifo', [join(dir, 'exec.fifo')]).status, 0);
  return dir;
}

test('an init that writes its byte is released, and the fifo goes (runc then reports the container running)', async (t) => {
  const dir = stateDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // like runc init: wait a little, open the fifo for writing, write "0", then go on
  const init = spawn('sh', ['-c', `sleep 0.2; printf 0 > ${join(dir, 'exec.fifo')}; sleep 1`], { stdio: 'ignore' });
  t.after(() => init.kill());
  assert.equal(await releaseRuncInit(dir, init.pid!), true);
  assert.equal(existsSync(join(dir, 'exec.fifo')), false);
});

test('no fifo: false, for the caller to run the runtime\'s own start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tug-fifo-'));
  try {
    assert.equal(await releaseRuncInit(dir, process.pid), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an init that died before opening the fifo is an error, not a wait forever', { timeout: 5000 }, async (t) => {
  const dir = stateDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gone = spawn('true');
  await new Promise((r) => gone.once('exit', r));
  const started = Date.now();
  await assert.rejects(releaseRuncInit(dir, gone.pid!), /container process is already dead/);
  assert.ok(Date.now() - started < 2000);
});

test('a writer that closes without writing (an already started container) is an error', { timeout: 5000 }, async (t) => {
  const dir = stateDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const init = spawn('sh', ['-c', `sleep 0.1; : > ${join(dir, 'exec.fifo')}; sleep 1`], { stdio: 'ignore' });
  t.after(() => init.kill());
  await assert.rejects(releaseRuncInit(dir, init.pid!), /already dead/);
});
