// Containers outlive the daemon: kill -9 tugd, start it again, and everything is accounted for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { TestDaemon, eventually, sleep } from '../helpers/daemon.ts';

/** Each test kills its own daemon: a fresh one with the images, cleaned up however the test ends. */
async function withOwnDaemon(body: (d: TestDaemon) => Promise<void>): Promise<void> {
  const d = new TestDaemon();
  await d.start();
  try {
    await d.makeImages();
    await body(d);
  } finally {
    await d.cleanup();
  }
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('kill -9 tugd: running containers survive, exits are recorded, restart policy acts', async () => {
  await withOwnDaemon(async (d) => {
    const keep = d.tug(['run', '-d', '--name', 'keeper', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']).stdout.trim();
    const quitter = d.tug(['run', '-d', '--name', 'quitter', 'busybox', 'sh', '-c', 'sleep 1; exit 9']).stdout.trim();
    const phoenix = d.tug(['run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1.5; exit 2']).stdout.trim();
    const pidBefore = d.tug(['inspect', '-f', '{{.State.Pid}}', keep]).stdout.trim();
    await d.kill('SIGKILL');
    await sleep(2500); // quitter and phoenix exit while tugd is gone
    process.kill(Number(pidBefore), 0); // still alive without the daemon
    await d.start();
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', keep]).stdout.trim(), `running ${pidBefore}`);
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', quitter]).stdout.trim(), 'exited 9');
    const rc = await eventually(() => d.tug(['inspect', '-f', '{{.RestartCount}} {{.State.Running}}', phoenix]).stdout.trim(), (s) => Number(s.split(' ')[0]) >= 1);
    assert.ok(Number(rc.split(' ')[0]) >= 1, `restart policy acted: ${rc}`);
    // logs still flow for the survivor
    const n1 = d.tug(['logs', keep]).stdout.split('\n').length;
    await sleep(800);
    assert.ok(d.tug(['logs', keep]).stdout.split('\n').length > n1, 'the survivor is still logging');
    assert.equal(d.tug(['stop', '-t', '0', keep]).code, 0);
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}}', keep]).stdout.trim(), 'exited');
  });
});

test('SIGTERM stops tugd cleanly and leaves containers running', async () => {
  await withOwnDaemon(async (d) => {
    const id = d.tug(['run', '-d', 'busybox', 'sleep', '60']).stdout.trim();
    const always = d.tug(['run', '-d', '--restart', 'always', 'busybox', 'sleep', '60']).stdout.trim();
    const unless = d.tug(['run', '-d', '--restart', 'unless-stopped', 'busybox', 'sleep', '60']).stdout.trim();
    assert.equal(d.tug(['stop', '-t', '0', always, unless]).code, 0);
    const pid = Number(d.tug(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    await d.kill('SIGTERM');
    assert.equal(d.proc?.exitCode, 0);
    process.kill(pid, 0);
    await d.start();
    assert.equal(d.tug(['inspect', '-f', '{{.State.Running}}', id]).stdout.trim(), 'true');
    // docker's rules on daemon start: `always` comes back even after a manual stop, `unless-stopped` does not
    const st = await eventually(() => d.tug(['inspect', '-f', '{{.State.Status}}', always]).stdout.trim(), (s) => s === 'running');
    assert.equal(st, 'running');
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}}', unless]).stdout.trim(), 'exited');
  });
});

test('on start, tugd removes what a half-removed container left behind: mount, process, runtime state, cgroup', async () => {
  await withOwnDaemon(async (d) => {
    const id = d.tug(['run', '-d', 'busybox', 'sleep', '1000']).stdout.trim();
    const pid = Number(d.tug(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    // a removal that had moved the directory aside (rootfs still mounted in it) when the daemon went
    const aside = d.tug(['run', '-d', 'busybox', 'sleep', '1000']).stdout.trim();
    const asidePid = Number(d.tug(['inspect', '-f', '{{.State.Pid}}', aside]).stdout.trim());
    await d.kill('SIGKILL');
    // a crash between dropping the record and cleaning up
    rmSync(`${d.root}/containers/${id}/config.v2.json`);
    renameSync(`${d.root}/containers/${aside}`, `${d.root}/containers/.removed/${aside}`);
    await d.start();
    for (const [c, p] of [[id, pid], [aside, asidePid]] as const) {
      const mounted = readFileSync('/proc/self/mountinfo', 'utf8').includes(`${c}/rootfs`);
      assert.equal(mounted, false, 'rootfs unmounted');
      assert.equal(existsSync(`${d.root}/containers/${c}`) || existsSync(`${d.root}/containers/.removed/${c}`), false, 'container directory removed');
      assert.equal(existsSync(`${d.root}/run/runc/${c}`), false, 'runtime state removed');
      assert.equal(existsSync(`/sys/fs/cgroup/pids/tugboat/${c}`) || existsSync(`/sys/fs/cgroup/tugboat/${c}`), false, 'cgroup removed');
      await eventually(() => alive(p), (a) => !a);
      assert.throws(() => process.kill(p, 0), 'the orphaned process is gone');
      await eventually(() => existsSync(`${d.root}/run/exits/${c}`), (e) => !e);
    }
    assert.equal(d.tug(['ps', '-aq']).stdout.trim(), '');
  });
});

test('a start whose record never reached the disk (kill -9 right after): the restarted tugd finds the container running', async () => {
  await withOwnDaemon(async (d) => {
    const id = d.tug(['run', '-d', '-p', '8080', 'busybox', 'httpd', '-f', '-p', '8080']).stdout.trim();
    const pid = d.tug(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim();
    await d.kill('SIGKILL');
    // the record as it was before the start's write: created, no pid
    const file = `${d.root}/containers/${id}/config.v2.json`;
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { State: { Status: string; Pid: number } };
    rec.State.Status = 'created';
    rec.State.Pid = 0;
    writeFileSync(file, JSON.stringify(rec));
    await d.start();
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id]).stdout.trim(), `running ${pid}`);
    // its network was kept: the published port still answers
    const port = d.tug(['port', id, '8080']).stdout.trim().split('\n')[0].split(':').pop();
    assert.match(port ?? '', /^\d+$/);
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    assert.ok(answer.status === 404 || answer.status === 200, `httpd answered ${answer.status}`);
    assert.equal(d.tug(['exec', id, 'true']).code, 0);
    assert.equal(d.tug(['stop', '-t', '0', id]).code, 0);
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim(), 'exited');
  });
});

test('a --rm container that ended while tugd was down is removed when it comes back', async () => {
  await withOwnDaemon(async (d) => {
    const id = d.tug(['run', '-d', '--rm', 'busybox', 'sleep', '1000']).stdout.trim();
    const pid = Number(d.tug(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    const conmon = Number(readFileSync(`${d.root}/containers/${id}/conmon.pid`, 'utf8'));
    await d.kill('SIGKILL');
    // the container and its monitor die too, and nothing records how: no exit file
    process.kill(conmon, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await eventually(() => alive(pid), (a) => !a);
    rmSync(`${d.root}/run/exits/${id}`, { force: true });
    const file = `${d.root}/containers/${id}/config.v2.json`;
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { State: { Status: string } }).State.Status, 'running');
    await d.start();
    await eventually(() => d.tug(['ps', '-aq', '--no-trunc']).stdout.trim(), (s) => s === '');
    assert.equal(d.tug(['ps', '-aq', '--no-trunc']).stdout.trim(), '');
    assert.equal(existsSync(`${d.root}/containers/${id}`), false);
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(`/containers/${id}/rootfs`), false, 'rootfs unmounted');
  });
});
