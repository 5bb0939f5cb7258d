// Runs buildSpec's output under the real runtimes (runc, and crun where the host lets it) with a busybox rootfs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, symlinkSync, writeFileSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildSpec, defaultNofile, type SpecInput } from '../../src/services/runtime/spec.ts';
import { containerCgroup, removeCgroup, swapAccounting, cgroupLayout } from '../../src/sys/cgroups.ts';
import type { HostConfig } from '../../src/services/containers/types.ts';

const BUSYBOX = '/usr/bin/busybox';
const RUNC = '/usr/sbin/runc';
const CRUN = '/usr/bin/crun';
const canRun = process.getuid?.() === 0 && existsSync(BUSYBOX) && existsSync(RUNC);
const skip = canRun ? false : 'needs root, /usr/bin/busybox and runc';

let work = '';
let rootfs = '';

before(() => {
  if (!canRun) return;
  work = mkdtempSync(join(tmpdir(), 'tug-spec-'));
  rootfs = join(work, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  // a stand-in for tini: drops the "--" and execs the command
  writeFileSync(join(work, 'fake-init'), '#!/bin/sh\n[ "$1" = "--" ] && shift\nexec "$@"\n', { mode: 0o755 });
});

after(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  // the shared parent; still busy if another run is using it, which is fine
  if (canRun) await removeCgroup('/tugboat-test', undefined, 100).catch(() => undefined);
});

interface Run {
  id: string;
  cgroupsPath: string;
  bundle: string;
  stateRoot: string;
}

function prepare(runtime: string, hc: HostConfig, script: string, extra: Partial<SpecInput> = {}): Run {
  const id = `tugtest-${randomBytes(6).toString('hex')}`;
  const bundle = join(work, id);
  const stateRoot = join(work, `${id}.state`);
  mkdirSync(bundle);
  mkdirSync(stateRoot);
  const cgroupsPath = `/tugboat-test/${id}`;
  const spec = buildSpec({
    id,
    rootfs,
    args: ['/bin/sh', '-c', script],
    env: ['PATH=/bin', 'HOME=/'],
    user: { uid: 0, gid: 0 },
    tty: false,
    hostname: 'tughost',
    hostConfig: hc,
    cgroupsPath,
    swapAccounting: swapAccounting(),
    ...extra,
  });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
  void runtime;
  return { id, cgroupsPath, bundle, stateRoot };
}

async function cleanup(runtime: string, r: Run): Promise<void> {
  spawnSync(runtime, ['--root', r.stateRoot, 'delete', '-f', r.id], { stdio: 'ignore' });
  await removeCgroup(r.cgroupsPath).catch(() => undefined);
  rmSync(r.bundle, { recursive: true, force: true });
  rmSync(r.stateRoot, { recursive: true, force: true });
}

function runToEnd(runtime: string, r: Run, timeoutMs = 30000): { status: number | null; stdout: string; stderr: string } {
  const p = spawnSync(runtime, ['--root', r.stateRoot, 'run', '--bundle', r.bundle, r.id], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: p.status, stdout: p.stdout, stderr: p.stderr };
}

function fields(out: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) o[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return o;
}

const PROBE = [
  'echo "pid=$$"',
  'echo "cmdline=$(tr "\\0" " " < /proc/1/cmdline)"',
  'echo "hostname=$(hostname)"',
  'if echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; then echo procsys=rw; else echo procsys=ro; fi',
  // /proc/kcore exists only with CONFIG_PROC_KCORE; runc masks what exists
  '[ -e /proc/kcore ] && echo "kcore=$(wc -c < /proc/kcore)" || echo kcore=absent',
  'echo "timer_list=$(wc -c < /proc/timer_list)"',
  'echo "firmware=$(ls /sys/firmware | wc -l)"',
  'echo "capeff=$(grep CapEff /proc/self/status | cut -f2)"',
  'echo "memlimit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
  'echo "pidsmax=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"',
  'if touch /rootfs-write 2>/dev/null; then echo rootfs=rw; else echo rootfs=ro; fi',
  'echo "nofile=$(ulimit -n)"',
  'echo "seccomp=$(grep "^Seccomp:" /proc/self/status | cut -f2)"',
  'echo "nnp=$(grep "^NoNewPrivs:" /proc/self/status | cut -f2)"',
  'if mount -t tmpfs x /tmp 2>/dev/null; then echo mount=ok; else echo mount=denied; fi',
].join('\n');

const MEM = 64 * 1024 * 1024;

function checkProbe(out: Record<string, string>): void {
  assert.equal(out.pid, '1');
  assert.match(out.cmdline, /^\/bin\/sh -c /);
  assert.equal(out.hostname, 'tughost');
  assert.equal(out.procsys, 'ro');
  assert.equal(out.kcore, existsSync('/proc/kcore') ? '0' : 'absent');
  if (existsSync('/proc/timer_list')) assert.equal(out.timer_list, '0');
  assert.equal(out.firmware, '0');
  assert.equal(out.capeff, '00000000a80425fb');
  assert.equal(Number(out.memlimit), MEM);
  assert.equal(out.pidsmax, '20');
  assert.equal(out.rootfs, 'ro');
  assert.equal(out.nofile, String(defaultNofile()));
  assert.equal(out.mount, 'denied');
  assert.equal(out.seccomp, '2'); // filter mode
  assert.equal(out.nnp, '1');
}

test('runc: pid 1, hostname, read-only /proc/sys, masked kcore, default caps, limits', { skip }, async () => {
  const r = prepare(RUNC, { Memory: MEM, PidsLimit: 20, ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges'] }, PROBE);
  try {
    const res = runToEnd(RUNC, r);
    assert.equal(res.status, 0, `runc failed: ${res.stderr}`);
    checkProbe(fields(res.stdout));
  } finally {
    await cleanup(RUNC, r);
  }
});

test('runc: --pids-limit stops fork bombs', { skip }, async () => {
  // PID 1 plus a subshell that forks sleeps until the pids controller says no; echo is a builtin, so the
  // last "started=" line shows how many forks succeeded
  const script = [
    'echo "pidsmax=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"',
    '( n=0; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & n=$((n+1)); echo "started=$n"; done ) 2>/dev/null',
    'echo "subshell=$?"',
  ].join('\n');
  const r = prepare(RUNC, { PidsLimit: 5 }, script);
  try {
    const res = runToEnd(RUNC, r);
    const out = fields(res.stdout);
    assert.equal(out.pidsmax, '5', `status ${res.status} stdout: ${res.stdout} stderr: ${res.stderr}`);
    assert.ok(Number(out.started) < 5, `forks that succeeded: ${out.started}`);
    assert.notEqual(out.subshell, '0');
  } finally {
    await cleanup(RUNC, r);
  }
});

test('runc: host-side cgroup view (limit, pids, cpu, OOM kill)', { skip }, async () => {
  const small = 16 * 1024 * 1024;
  // dd's 64 MiB buffer cannot fit in 16 MiB without swap: the kernel OOM-kills dd, the shell survives
  const script = 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo "dd=$?"; echo ready; exec sleep 30';
  const r = prepare(RUNC, { Memory: small, MemorySwap: small, PidsLimit: 50 }, script);
  const child = spawn(RUNC, ['--root', r.stateRoot, 'run', '--bundle', r.bundle, r.id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`container never got ready: ${stdout} ${stderr}`)), 20000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`runc exited ${code}: ${stderr}`));
      });
    });
    assert.match(stdout, /dd=(137|[1-9])/); // killed by SIGKILL
    const state = JSON.parse(execFileSync(RUNC, ['--root', r.stateRoot, 'state', r.id], { encoding: 'utf8' })) as { pid: number };
    const cg = containerCgroup(r.cgroupsPath);
    const mem = cg.memory();
    assert.ok(mem, `no memory stats (layout ${cgroupLayout()})`);
    assert.equal(mem.limit, small);
    assert.ok(mem.usage > 0);
    assert.ok(cg.oomKills() >= 1, 'OOM kill not seen');
    assert.deepEqual(cg.pids(), [state.pid]);
    assert.equal(cg.pidsCount()?.limit, 50);
    assert.ok((cg.cpu()?.usageNs ?? 0) > 0);
    for (const d of cg.dirs()) assert.ok(existsSync(d), `${d} missing`);
  } finally {
    spawnSync(RUNC, ['--root', r.stateRoot, 'kill', r.id, 'KILL'], { stdio: 'ignore' });
    await new Promise((res) => (child.exitCode !== null ? res(null) : child.once('exit', res)));
    await cleanup(RUNC, r);
  }
  for (const d of containerCgroup(r.cgroupsPath).dirs()) assert.ok(!existsSync(d), `${d} left behind`);
});

test('runc: --init runs the command under /sbin/docker-init (read-only bind)', { skip }, async () => {
  const script = 'echo "pid=$$"; echo "init=$(grep " /sbin/docker-init " /proc/self/mountinfo | grep -c " ro,")"';
  const r = prepare(RUNC, { Init: true }, script, { initPath: join(work, 'fake-init') });
  try {
    const res = runToEnd(RUNC, r);
    assert.equal(res.status, 0, res.stderr);
    const out = fields(res.stdout);
    assert.equal(out.pid, '1');
    assert.equal(out.init, '1');
  } finally {
    await cleanup(RUNC, r);
  }
});

test('runc: --privileged and --cap-add', { skip }, async () => {
  const script = 'echo "capeff=$(grep CapEff /proc/self/status | cut -f2)"; echo "seccomp=$(grep "^Seccomp:" /proc/self/status | cut -f2)"; if mount -t tmpfs x /tmp 2>/dev/null; then echo mount=ok; else echo mount=denied; fi; if echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; then echo procsys=rw; else echo procsys=ro; fi';
  let r = prepare(RUNC, { Privileged: true }, script);
  try {
    const res = runToEnd(RUNC, r);
    assert.equal(res.status, 0, res.stderr);
    const out = fields(res.stdout);
    assert.equal(out.mount, 'ok');
    assert.equal(out.procsys, 'rw');
    assert.notEqual(out.capeff, '00000000a80425fb');
    assert.equal(out.seccomp, '0');
  } finally {
    await cleanup(RUNC, r);
  }
  r = prepare(RUNC, { CapAdd: ['SYS_ADMIN'], CapDrop: ['CHOWN'] }, script);
  try {
    const res = runToEnd(RUNC, r);
    assert.equal(res.status, 0, res.stderr);
    const out = fields(res.stdout);
    // +SYS_ADMIN (bit 21), -CHOWN (bit 0)
    assert.equal(out.capeff, ((0xa80425fbn | (1n << 21n)) & ~1n).toString(16).padStart(16, '0'));
    assert.equal(out.mount, 'ok');
  } finally {
    await cleanup(RUNC, r);
  }
});

test('crun: same checks where crun supports the host cgroup layout', { skip: canRun && existsSync(CRUN) ? false : 'needs root and crun' }, async (t) => {
  const r = prepare(CRUN, { Memory: MEM, PidsLimit: 20, ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges'] }, PROBE);
  try {
    const res = runToEnd(CRUN, r);
    if (res.status !== 0 && /cgroups in hybrid mode not supported/.test(res.stderr)) {
      const why = `crun refuses this host's hybrid cgroup layout: ${res.stderr.trim()}`;
      console.log(`# skipping crun: ${why}`);
      t.skip(why);
      return;
    }
    assert.equal(res.status, 0, `crun failed: ${res.stderr}`);
    checkProbe(fields(res.stdout));
  } finally {
    await cleanup(CRUN, r);
  }
});
