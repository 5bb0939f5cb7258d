// What a container can and cannot see or do: namespaces, hardening, and cgroup limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const sh = (script: string, ...flags: string[]) => d.tug(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);

test('own hostname, PID 1 is the container process, host processes and mounts invisible', () => {
  const r = sh('hostname; echo $$; ps -o pid,comm | wc -l; cat /proc/mounts | grep -c " / " ; ls /proc | grep -c "^[0-9]"');
  assert.equal(r.code, 0, r.stderr);
  const [host, pid, , , procs] = r.stdout.trim().split('\n');
  assert.notEqual(host, hostname());
  assert.match(host, /^[0-9a-f]{12}$/);
  assert.equal(pid, '1');
  assert.ok(Number(procs) <= 4, `only the container's own processes are visible (${procs})`);
  const points = sh('cat /proc/self/mountinfo').stdout.trim().split('\n').map((l) => l.split(' ')[4]);
  assert.ok(points.includes('/'));
  for (const hostOnly of ['/work', '/run', '/tmp', '/boot', '/var']) assert.ok(!points.includes(hostOnly), `host mount ${hostOnly} is not visible`);
  assert.ok(points.every((p) => ['/', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(p) || /^\/(proc|dev|sys)(\/|$)/.test(p)), `only the container's own mounts: ${points}`);
});

test('--pid, --uts and --ipc: the host\'s or another container\'s namespace when asked, and bad modes refused', () => {
  const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout.trim(); };
  // the host's: its processes (this test's own among them), its hostname, its /dev/shm
  assert.ok(Number(ok(sh('ls /proc | grep -c "^[0-9]"', '--pid', 'host'))) > 20);
  assert.match(ok(sh('ps -o pid', '--pid', 'host')), new RegExp(`^\\s*${process.pid}$`, 'm'));
  assert.equal(ok(sh('hostname', '--uts', 'host')), hostname());
  assert.match(d.tug(['run', '--rm', '--uts', 'host', '-h', 'x', 'busybox', 'true']).stderr, /conflicting options: hostname and the UTS mode/);
  const token = `tug-ipc-${process.pid}`;
  ok(sh(`echo ${token} > /dev/shm/${token}`, '--ipc', 'host'));
  try { assert.equal(readFileSync(`/dev/shm/${token}`, 'utf8').trim(), token); } finally { rmSync(`/dev/shm/${token}`, { force: true }); }
  // another container's: its processes, and a shareable one's /dev/shm and IPC namespace
  ok(d.tug(['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo from-donor > /dev/shm/note; exec sleep 1000']));
  ok(d.tug(['run', '-d', '--name', 'private', 'busybox', 'sleep', '1000']));
  assert.match(ok(sh('ps -o args', '--pid', 'container:donor')), /sleep 1000/);
  assert.equal(ok(sh('cat /dev/shm/note; readlink /proc/self/ns/ipc', '--ipc', 'container:donor')).split('\n')[0], 'from-donor');
  const donorIpc = ok(d.tug(['exec', 'donor', 'readlink', '/proc/self/ns/ipc']));
  assert.equal(ok(sh('readlink /proc/self/ns/ipc', '--ipc', 'container:donor')), donorIpc);
  assert.match(d.tug(['run', '--rm', '--ipc', 'container:private', 'busybox', 'true']).stderr, /non-shareable IPC/);
  assert.match(d.docker(['run', '--rm', '--pid', 'container:donor', 'busybox', 'ps', '-o', 'args']).stdout, /sleep 1000/);
  ok(d.tug(['rm', '-f', 'donor', 'private']));
  assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${d.dir}/\\S*/shm `), 'the shareable /dev/shm goes with its container');
  // a container that is not running, and modes docker does not know
  ok(d.tug(['create', '--name', 'idle', 'busybox', 'true']));
  assert.match(d.tug(['run', '--rm', '--pid', 'container:idle', 'busybox', 'true']).stderr, /cannot join PID namespace of a non running container/);
  for (const [flag, what] of [['--pid', 'PID'], ['--ipc', 'IPC'], ['--uts', 'UTS']]) {
    const r = d.tug(['run', '--rm', flag, 'bogus', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`invalid ${what} mode: bogus`));
  }
  assert.equal(ok(d.tug(['ps', '-aq', '--filter', 'status=created'])).split('\n').filter(Boolean).length, 1, 'nothing half-made');
  ok(d.tug(['rm', 'idle']));
});

test('--cgroup-parent places the container\'s cgroup; --cgroupns private hides the host\'s cgroup paths, host shows them', () => {
  const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout.trim(); };
  const parent = `tugtest-parent-${process.pid}`;
  try {
    const id = ok(d.tug(['run', '-d', '--cgroup-parent', parent, '--cgroupns', 'host', 'busybox', 'sleep', '1000']));
    const pid = ok(d.tug(['inspect', '-f', '{{.State.Pid}}', id]));
    // seen from the host, and from inside with the host's cgroup namespace: the pids hierarchy has it under the parent
    // (the pids controller's line on a v1 or hybrid host, the unified one on a pure v2 host)
    const pidsLine = (text: string) => { const lines = text.trim().split('\n'); return lines.find((l) => /^\d+:pids:/.test(l)) ?? lines.find((l) => l.startsWith('0::')) ?? text; };
    assert.match(pidsLine(readFileSync(`/proc/${pid}/cgroup`, 'utf8')), new RegExp(`:/${parent}/${id}$`));
    assert.match(pidsLine(ok(d.tug(['exec', id, 'cat', '/proc/self/cgroup']))), new RegExp(`:/${parent}/${id}$`));
    ok(d.tug(['rm', '-f', id]));
    // its own namespace: its cgroup is its root
    assert.match(pidsLine(ok(sh('cat /proc/self/cgroup', '--cgroupns', 'private'))), /:\/$/);
    for (const [flags, why] of [[['--cgroupns', 'bogus'], /invalid cgroup namespace mode: bogus/], [['--cgroup-parent', '../escape'], /invalid cgroup parent/]] as const) {
      const r = d.tug(['run', '--rm', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, why);
    }
  } finally {
    // as with docker, the parent stays once made: the test removes its own
    spawnSync('sh', ['-c', `for d in /sys/fs/cgroup/*/${parent} /sys/fs/cgroup/${parent}; do [ -d "$d" ] && rmdir "$d"; done; true`]);
  }
});

test('--device-read-bps and --device-write-iops limit the container\'s block device I/O; a path that is no block device is refused', () => {
  // the machine's first disk (not a loop or ram device), by its major:minor
  const disk = readdirSync('/sys/block').find((n) => !/^(loop|ram|zram|nbd)/.test(n));
  assert.ok(disk, 'a block device on this host');
  const majMin = readFileSync(`/sys/block/${disk}/dev`, 'utf8').trim();
  const cgroupFile = (v1: string, v2: string) => `cat /sys/fs/cgroup/blkio/${v1} 2>/dev/null || grep '^${majMin} ' /sys/fs/cgroup/${v2}`;
  const r = sh(`${cgroupFile('blkio.throttle.read_bps_device', 'io.max')}; ${cgroupFile('blkio.throttle.write_iops_device', 'io.max')}`,
    '--device-read-bps', `/dev/${disk}:1mb`, '--device-write-iops', `/dev/${disk}:100`);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim();
  // cgroup v1 lists each limit in its own file; v2 has them all on the device's line of io.max
  if (out.includes('rbps=')) assert.match(out, new RegExp(`^${majMin} rbps=1048576 .*wiops=100`, 'm'));
  else assert.equal(out, `${majMin} 1048576\n${majMin} 100`);
  const bad = d.tug(['run', '--rm', '--device-read-bps', '/dev/null:1mb', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /\/dev\/null is not a block device/);
});

test('/proc/sys read-only, masked paths empty, no CAP_SYS_ADMIN', () => {
  const ro = sh('echo 1 > /proc/sys/kernel/panic 2>&1; echo rc=$?');
  assert.match(ro.stdout, /rc=[1-9]/);
  assert.equal(sh('cat /proc/kcore | wc -c').stdout.trim(), '0');
  assert.equal(sh('ls /sys/firmware | wc -l').stdout.trim(), '0');
  const caps = sh('grep CapEff /proc/self/status').stdout;
  const eff = BigInt('0x' + caps.trim().split(/\s+/)[1]);
  assert.equal(eff & (1n << 21n), 0n, 'CAP_SYS_ADMIN absent');
  assert.equal(eff, 0xa80425fbn, 'docker default capability set');
  const mount = sh('mount -t tmpfs none /mnt 2>&1; echo rc=$?');
  assert.match(mount.stdout, /rc=[1-9]/);
  const privileged = sh('grep CapEff /proc/self/status', '--privileged').stdout;
  assert.notEqual(BigInt('0x' + privileged.trim().split(/\s+/)[1]) & (1n << 21n), 0n);
  const dropped = sh('grep CapEff /proc/self/status', '--cap-drop', 'ALL', '--cap-add', 'NET_RAW').stdout;
  assert.equal(BigInt('0x' + dropped.trim().split(/\s+/)[1]), 1n << 13n);
});

test('device rules: a block device made with mknod cannot be read', () => {
  const r = sh('mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda >/dev/null 2>&1; echo rc=$?');
  assert.match(r.stdout, /rc=[1-9]/);
  assert.equal(sh('head -c 4 /dev/zero | wc -c').stdout.trim(), '4', 'standard devices work');
});

test('--device-cgroup-rule lets a container use a device the default rules deny; a malformed rule is refused at create', () => {
  // /dev/fuse (10:229) needs no capability to open, but docker's default device rules leave it out
  const open = 'mknod /tmp/fuse c 10 229 && (exec 3<>/tmp/fuse) && echo opened';
  const denied = sh(open);
  assert.match(denied.stderr, /Operation not permitted/);
  assert.doesNotMatch(denied.stdout, /opened/);
  assert.equal(sh(open, '--device-cgroup-rule', 'c 10:229 rw').stdout.trim(), 'opened');
  assert.equal(sh(open, '--device-cgroup-rule', 'c 10:* rwm').stdout.trim(), 'opened');
  const bad = d.tug(['run', '--device-cgroup-rule', 'b 8:0', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid device cgroup format 'b 8:0'/);
  assert.equal(d.tug(['ps', '-aq', '--filter', 'status=created']).stdout.trim(), '', 'nothing created');
});

test('--annotation reaches the runtime; --userns host is taken; --storage-opt, --isolation, --gpus and remapped user namespaces are refused with docker\'s messages', () => {
  const id = d.tug(['run', '-d', '--annotation', 'org.example.team=infra', '--annotation', 'org.example.empty=', '--userns', 'host', 'busybox', 'sleep', '100']).stdout.trim();
  try {
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(d.tug(['inspect', '-f', '{{json .HostConfig.Annotations}}', id]).stdout), { 'org.example.empty': '', 'org.example.team': 'infra' });
    const state = JSON.parse(spawnSync('runc', ['--root', `${d.root}/run/runc`, 'state', id], { encoding: 'utf8' }).stdout) as { annotations?: Record<string, string> };
    assert.equal(state.annotations?.['org.example.team'], 'infra');
  } finally { d.tug(['rm', '-f', id]); }
  for (const [flags, message] of [
    [['--storage-opt', 'size=1G'], /--storage-opt is supported only for overlay over xfs with 'pquota' mount option/],
    [['--isolation', 'hyperv'], /Invalid isolation: "hyperv" - linux only supports 'default'/],
    [['--gpus', 'all'], /could not select device driver "" with capabilities: \[\[gpu\]\]/],
    [['--userns', 'remap'], /invalid USER mode: remap/],
  ] as Array<[string[], RegExp]>) {
    const r = d.tug(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, flags.join(' '));
    assert.match(r.stderr, message);
  }
  assert.equal(d.tug(['ps', '-aq']).stdout.trim(), '', 'nothing left behind');
});

test('read-only rootfs and no-new-privileges', () => {
  const ro = sh('touch /x 2>&1; echo rc=$?', '--read-only');
  assert.match(ro.stdout, /rc=[1-9]/);
  const nnp = sh('grep NoNewPrivs /proc/self/status', '--security-opt', 'no-new-privileges');
  assert.match(nnp.stdout, /NoNewPrivs:\s+1/);
});

test('a memory hog is OOM-killed at its limit: exit 137 and OOMKilled', () => {
  const id = d.tug(['run', '-d', '-m', '32m', '--memory-swap', '32m', 'busybox', 'sh', '-c', 'x=a; while true; do x="$x$x"; done']).stdout.trim();
  const code = d.tug(['wait', id]).stdout.trim();
  assert.equal(code, '137');
  assert.equal(d.tug(['inspect', '-f', '{{.State.OOMKilled}}', id]).stdout.trim(), 'true');
  d.tug(['rm', id]);
});

test('a fork bomb is stopped by --pids-limit', async () => {
  const id = d.tug(['run', '-d', '--pids-limit', '20', 'busybox', 'sh', '-c', '(for i in $(seq 1 100); do sleep 30 & done) 2>/dev/null; exec sleep 30']).stdout.trim();
  await new Promise((r) => setTimeout(r, 1500));
  const top = d.tug(['top', id]);
  assert.equal(top.code, 0, top.stderr);
  const count = top.stdout.trim().split('\n').length - 1;
  assert.ok(count > 5 && count <= 20, `process count held at the limit: ${count}`);
  assert.equal(d.tug(['rm', '-f', id]).code, 0);
});

test('--cpus 0.5 holds CPU use near half a core', async () => {
  const id = d.tug(['run', '-d', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while true; do :; done']).stdout.trim();
  const pid = Number(d.tug(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
  const { readFileSync } = await import('node:fs');
  const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
  await new Promise((r) => setTimeout(r, 500));
  const t0 = ticks(); const w0 = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  const used = (ticks() - t0) / 100 / ((Date.now() - w0) / 1000);
  d.tug(['rm', '-f', id]);
  assert.ok(used > 0.3 && used < 0.65, `cpu share ${used.toFixed(2)} near 0.5`);
});
