// docker update: new limits reach a running container's cgroup at once and are kept in its config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

/** A cgroup file of the container, v1 (per controller) or v2 (unified). */
function cgroupFile(id: string, v1: string, v2: string): string {
  const [ctrl, file] = v1.split('/');
  const p1 = `/sys/fs/cgroup/${ctrl}/tugboat/${id}/${file}`;
  return readFileSync(existsSync(p1) ? p1 : `/sys/fs/cgroup/tugboat/${id}/${v2}`, 'utf8').trim();
}

test('update changes memory, cpus, pids and restart policy of a running container', () => {
  const id = d.tug(['run', '-d', '--name', 'up', 'busybox', 'sleep', '1000']).stdout.trim();
  const r = d.tug(['update', '--cpus', '0.3', '-m', '48m', '--pids-limit', '30', '--restart', 'on-failure:2', 'up']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'up\n');
  assert.equal(d.tug(['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'up']).stdout.trim(),
    `300000000 ${48 * 1024 * 1024} 30 on-failure:2`);
  assert.equal(cgroupFile(id, 'memory/memory.limit_in_bytes', 'memory.max'), String(48 * 1024 * 1024));
  assert.equal(cgroupFile(id, 'pids/pids.max', 'pids.max'), '30');
  assert.match(cgroupFile(id, 'cpu/cpu.cfs_quota_us', 'cpu.max'), /^30000\b/);
  const docker = d.docker(['update', '--cpus', '0.6', 'up']);
  assert.equal(docker.code, 0, docker.stderr);
  assert.match(cgroupFile(id, 'cpu/cpu.cfs_quota_us', 'cpu.max'), /^60000\b/);
  // a CFS quota and period instead of --cpus, and a soft memory limit
  assert.equal(d.tug(['update', '--cpu-period', '100000', '--cpu-quota', '20000', '--memory-reservation', '16m', 'up']).code, 0);
  assert.match(cgroupFile(id, 'cpu/cpu.cfs_quota_us', 'cpu.max'), /^20000\b/);
  assert.equal(cgroupFile(id, 'memory/memory.soft_limit_in_bytes', 'memory.low'), String(16 * 1024 * 1024));
  assert.equal(d.tug(['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}} {{.HostConfig.MemoryReservation}}', 'up']).stdout.trim(), `0 20000 ${16 * 1024 * 1024}`);
});

test('bad updates are refused and change nothing', () => {
  const bad = d.docker(['update', '--memory', '1k', 'up']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
  assert.equal(d.tug(['inspect', '-f', '{{.HostConfig.Memory}}', 'up']).stdout.trim(), String(48 * 1024 * 1024));
  const policy = d.tug(['update', '--restart', 'always:3', 'up']);
  assert.notEqual(policy.code, 0);
  assert.equal(d.tug(['update', '--cpus', '1', 'nope']).code, 1);
});

test('--runtime crun: run, exec, live update, pause and stop through tugd (where crun accepts the host\'s cgroups)', (t) => {
  const probe = d.tug(['run', '--rm', '--runtime', 'crun', 'busybox', 'echo', 'crun here']);
  if (probe.code !== 0 && /hybrid mode not supported/.test(probe.stderr)) {
    t.skip(`crun refuses this host's cgroup layout: ${probe.stderr.trim()}`);
    return;
  }
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(probe.stdout, 'crun here\n');
  const id = d.tug(['run', '-d', '--runtime', 'crun', '-m', '64m', 'busybox', 'sleep', '1000']).stdout.trim();
  try {
    assert.equal(d.tug(['inspect', '-f', '{{.HostConfig.Runtime}}', id]).stdout.trim(), 'crun');
    assert.equal(d.tug(['exec', id, 'sh', '-c', 'echo $((6*7))']).stdout, '42\n');
    const up = d.tug(['update', '-m', '96m', '--pids-limit', '33', id]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(cgroupFile(id, 'memory/memory.limit_in_bytes', 'memory.max'), String(96 * 1024 * 1024));
    assert.equal(cgroupFile(id, 'pids/pids.max', 'pids.max'), '33');
    assert.equal(d.tug(['pause', id]).code, 0);
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim(), 'paused');
    assert.equal(d.tug(['unpause', id]).code, 0);
    assert.equal(d.tug(['stop', '-t', '0', id]).code, 0);
    assert.equal(d.tug(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim(), 'exited 137');
  } finally {
    d.tug(['rm', '-f', id]);
  }
});
