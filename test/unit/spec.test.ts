import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, defaultNofile, hostCapabilities, resolveCapabilities, tmpfsOptions, DEFAULT_CAPABILITIES, ALL_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, type SpecInput } from '../../src/services/runtime/spec.ts';
import { defaultSeccomp, seccompFromProfile, CLONE_NAMESPACE_FLAGS } from '../../src/services/runtime/seccomp.ts';
import type { HostConfig } from '../../src/services/containers/types.ts';

function input(hc: HostConfig = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'abc',
    rootfs: '/var/lib/tugboat/overlay/abc/merged',
    args: ['/bin/sh', '-c', 'true'],
    env: ['PATH=/usr/bin:/bin'],
    cwd: '',
    user: { uid: 0, gid: 0 },
    tty: false,
    hostname: 'abc123',
    hostConfig: hc,
    cgroupsPath: '/tugboat/abc',
    defaultNofile: 1048576,
    availableCapabilities: ALL_CAPABILITIES,
    ...extra,
  };
}

/** The capability mask the kernel shows in /proc/<pid>/status for a set of names. */
function capMask(caps: string[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(ALL_CAPABILITIES.indexOf(c))), 0n);
}

test('default capabilities are docker\'s 14, in bounding/effective/permitted only', () => {
  const s = buildSpec(input());
  const c = s.process.capabilities!;
  assert.deepEqual(new Set(c.effective), new Set(DEFAULT_CAPABILITIES));
  assert.equal(c.effective!.length, 14);
  assert.deepEqual(c.bounding, c.effective);
  assert.deepEqual(c.permitted, c.effective);
  assert.equal(c.inheritable, undefined);
  assert.equal(c.ambient, undefined);
  assert.equal(capMask(c.effective!).toString(16), 'a80425fb');
});

test('cap-add and cap-drop accept names with or without CAP_, and ALL', () => {
  let caps = resolveCapabilities({ CapAdd: ['sys_admin', 'CAP_NET_ADMIN'], CapDrop: ['chown', 'CAP_KILL'] });
  assert.ok(caps.includes('CAP_SYS_ADMIN') && caps.includes('CAP_NET_ADMIN'));
  assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_KILL'));
  assert.equal(caps.length, 14);

  caps = resolveCapabilities({ CapDrop: ['ALL'], CapAdd: ['NET_BIND_SERVICE'] });
  assert.deepEqual(caps, ['CAP_NET_BIND_SERVICE']);

  caps = resolveCapabilities({ CapAdd: ['ALL'], CapDrop: ['SYS_ADMIN'] }, ALL_CAPABILITIES);
  assert.equal(caps.length, ALL_CAPABILITIES.length - 1);
  assert.ok(!caps.includes('CAP_SYS_ADMIN'));

  assert.throws(() => resolveCapabilities({ CapAdd: ['NOT_A_CAP'] }), /unknown capability: "CAP_NOT_A_CAP"/);
  // privileged / ALL only grant what the daemon itself holds
  assert.deepEqual(resolveCapabilities({ Privileged: true }, ['CAP_CHOWN', 'CAP_SYS_ADMIN']), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.deepEqual(resolveCapabilities({ CapAdd: ['ALL'], CapDrop: ['CHOWN'] }, ['CAP_CHOWN', 'CAP_KILL']), ['CAP_KILL']);
  assert.ok(hostCapabilities().includes('CAP_CHOWN'));
});

test('privileged: all caps, no masks, no seccomp, all devices, /sys rw', () => {
  const s = buildSpec(input({ Privileged: true }));
  assert.deepEqual(s.process.capabilities!.effective, [...ALL_CAPABILITIES]);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.equal(s.linux.seccomp, undefined);
  assert.deepEqual(s.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  const sys = s.mounts.find((m) => m.destination === '/sys')!;
  assert.ok(sys.options!.includes('rw') && !sys.options!.includes('ro'));
});

test('masked and read-only paths, standard mounts', () => {
  const s = buildSpec(input());
  assert.deepEqual(s.linux.maskedPaths, [...MASKED_PATHS]);
  assert.ok(s.linux.maskedPaths!.includes('/proc/kcore'));
  assert.deepEqual(s.linux.readonlyPaths, [...READONLY_PATHS]);
  const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
  assert.equal(byDest.get('/proc')!.type, 'proc');
  assert.equal(byDest.get('/dev')!.type, 'tmpfs');
  assert.ok(byDest.get('/dev/pts')!.options!.includes('newinstance'));
  assert.ok(byDest.get('/dev/pts')!.options!.includes('ptmxmode=0666'));
  assert.ok(byDest.get('/dev/pts')!.options!.includes('gid=5'));
  assert.ok(byDest.get('/dev/shm')!.options!.includes(`size=${64 * 1024 * 1024}`));
  assert.equal(byDest.get('/dev/mqueue')!.type, 'mqueue');
  assert.ok(byDest.get('/sys')!.options!.includes('ro'));
  assert.ok(byDest.get('/sys/fs/cgroup')!.options!.includes('ro'));
  assert.equal(s.root.readonly, false);
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.oomScoreAdj, 0);
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }]);
  assert.equal(s.hostname, 'abc123');
  assert.equal(s.linux.cgroupsPath, '/tugboat/abc');
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['mount', 'pid', 'network', 'ipc', 'uts']);
});

test('shm size, tmpfs, readonly rootfs, caller mounts', () => {
  const s = buildSpec(input({ ShmSize: 1 << 20, ReadonlyRootfs: true, Tmpfs: { '/run': 'rw,exec,size=64m', '/dev/shm': '' } }, {
    etcMounts: [{ source: '/var/lib/tugboat/containers/abc/hosts', destination: '/etc/hosts' }],
  }));
  assert.equal(s.root.readonly, true);
  const run = s.mounts.find((m) => m.destination === '/run')!;
  assert.equal(run.type, 'tmpfs');
  assert.ok(run.options!.includes('exec') && !run.options!.includes('noexec'));
  assert.ok(run.options!.includes('nosuid') && run.options!.includes('nodev'));
  assert.ok(run.options!.includes(`size=${64 * 1024 * 1024}`));
  // the user's /dev/shm replaces the default one
  const shm = s.mounts.filter((m) => m.destination === '/dev/shm');
  assert.equal(shm.length, 1);
  assert.equal(shm[0].source, 'tmpfs');
  const hosts = s.mounts.find((m) => m.destination === '/etc/hosts')!;
  assert.equal(hosts.type, 'bind');
  assert.deepEqual(hosts.options, ['rbind', 'rprivate']);
  assert.deepEqual(tmpfsOptions(''), ['noexec', 'nosuid', 'nodev']);
  assert.deepEqual(buildSpec(input({ ShmSize: 1 << 20 })).mounts.find((m) => m.destination === '/dev/shm')!.options!.at(-1), 'size=1048576');
});

test('memory and swap follow docker semantics', () => {
  const m = 256 * 1024 * 1024;
  assert.deepEqual(buildSpec(input({ Memory: m })).linux.resources!.memory, { limit: m, swap: 2 * m });
  assert.deepEqual(buildSpec(input({ Memory: m, MemorySwap: -1 })).linux.resources!.memory, { limit: m, swap: -1 });
  assert.deepEqual(buildSpec(input({ Memory: m, MemorySwap: 3 * m })).linux.resources!.memory, { limit: m, swap: 3 * m });
  assert.deepEqual(buildSpec(input({ Memory: m, MemorySwap: m })).linux.resources!.memory, { limit: m, swap: m });
  assert.deepEqual(buildSpec(input({ Memory: m }, { swapAccounting: false })).linux.resources!.memory, { limit: m });
  assert.throws(() => buildSpec(input({ Memory: m, MemorySwap: m / 2 })), /memoryswap limit should be larger/);
  assert.throws(() => buildSpec(input({ MemorySwap: m })), /always set the Memory limit/);
  assert.deepEqual(buildSpec(input({ MemoryReservation: m / 2, OomKillDisable: true })).linux.resources!.memory, { reservation: m / 2, disableOOMKiller: true });
  assert.equal(buildSpec(input()).linux.resources!.memory, undefined);
});

test('cpus, quota/period, shares, cpuset', () => {
  assert.deepEqual(buildSpec(input({ NanoCpus: 0.5e9 })).linux.resources!.cpu, { quota: 50000, period: 100000 });
  assert.deepEqual(buildSpec(input({ NanoCpus: 1.5e9 })).linux.resources!.cpu, { quota: 150000, period: 100000 });
  assert.deepEqual(buildSpec(input({ CpuQuota: 20000, CpuPeriod: 50000, CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0' })).linux.resources!.cpu,
    { quota: 20000, period: 50000, shares: 512, cpus: '0-1', mems: '0' });
  assert.throws(() => buildSpec(input({ NanoCpus: 1e9, CpuQuota: 20000 })), /Conflicting options/);
});

test('pids limit only when positive', () => {
  assert.deepEqual(buildSpec(input({ PidsLimit: 10 })).linux.resources!.pids, { limit: 10 });
  assert.equal(buildSpec(input({ PidsLimit: 0 })).linux.resources!.pids, undefined);
  assert.equal(buildSpec(input({ PidsLimit: -1 })).linux.resources!.pids, undefined);
  assert.equal(buildSpec(input({ PidsLimit: null })).linux.resources!.pids, undefined);
});

test('device cgroup: deny all, standard char devices, mknod', () => {
  const rules = buildSpec(input()).linux.resources!.devices!;
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  const allowed = rules.filter((r) => r.allow && r.access === 'rwm').map((r) => `${r.type} ${r.major}:${r.minor ?? '*'}`);
  for (const d of ['c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*']) assert.ok(allowed.includes(d), d);
  assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === undefined && r.access === 'm'));
  assert.ok(rules.some((r) => r.allow && r.type === 'b' && r.major === undefined && r.access === 'm'));
  assert.ok(!rules.some((r) => r.allow && r.type === 'b' && r.access!.includes('r')));
});

test('--device adds the node and a cgroup rule', () => {
  const s = buildSpec(input({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }] }));
  assert.deepEqual(s.linux.devices!.map((d) => [d.path, d.type, d.major, d.minor]), [['/dev/mynull', 'c', 1, 3]]);
  assert.ok(s.linux.resources!.devices!.some((r) => r.allow && r.major === 1 && r.minor === 3 && r.access === 'rw'));
});

test('security options: no-new-privileges, seccomp unconfined, unknown rejected', () => {
  assert.equal(buildSpec(input()).process.noNewPrivileges, false);
  assert.equal(buildSpec(input({ SecurityOpt: ['no-new-privileges'] })).process.noNewPrivileges, true);
  assert.equal(buildSpec(input({ SecurityOpt: ['no-new-privileges:true'] })).process.noNewPrivileges, true);
  assert.equal(buildSpec(input({ SecurityOpt: ['no-new-privileges=false'] })).process.noNewPrivileges, false);
  assert.ok(buildSpec(input()).linux.seccomp);
  assert.equal(buildSpec(input({ SecurityOpt: ['seccomp=unconfined'] })).linux.seccomp, undefined);
  assert.equal(buildSpec(input({ SecurityOpt: ['seccomp:unconfined'] })).linux.seccomp, undefined);
  assert.deepEqual(buildSpec(input({ SecurityOpt: ['systempaths=unconfined'] })).linux.maskedPaths, []);
  assert.throws(() => buildSpec(input({ SecurityOpt: ['bogus=1'] })), /invalid --security-opt/);
});

test('--init bind-mounts the init read-only and wraps the command', () => {
  const s = buildSpec(input({ Init: true }, { initPath: '/usr/bin/tini-static' }));
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', '/bin/sh', '-c', 'true']);
  const m = s.mounts.find((x) => x.destination === '/sbin/docker-init')!;
  assert.equal(m.source, '/usr/bin/tini-static');
  assert.ok(m.options!.includes('ro'));
  assert.throws(() => buildSpec(input({ Init: true })), /init/);
});

test('user, tty, env, namespaces joining a path', () => {
  const s = buildSpec(input({}, { user: { uid: 1000, gid: 100, additionalGids: [10, 20] }, tty: true, cwd: '/app', namespaces: { net: '/proc/42/ns/net', uts: false } }));
  assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [10, 20] });
  assert.equal(s.process.terminal, true);
  assert.equal(s.process.cwd, '/app');
  assert.deepEqual(s.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/proc/42/ns/net' });
  assert.ok(!s.linux.namespaces.some((n) => n.type === 'uts'));
  assert.equal(s.hostname, undefined); // cannot set the hostname of the host's UTS namespace
});

test('sysctls are validated against the namespaces the container owns', () => {
  assert.deepEqual(buildSpec(input({ Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' } })).linux.sysctl, {
    'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000',
  });
  assert.throws(() => buildSpec(input({ Sysctls: { 'vm.swappiness': '1' } })), /not whitelisted/);
  assert.throws(() => buildSpec(input({ Sysctls: { 'net.ipv4.ip_forward': '1' } }, { namespaces: { net: false } })), /network namespace/);
});

test('a network namespace of its own gets docker\'s defaults (low ports and ping for any user), which the user\'s sysctls override', () => {
  const defaults = { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' };
  assert.deepEqual(buildSpec(input({})).linux.sysctl, defaults);
  assert.deepEqual(buildSpec(input({}, { namespaces: { net: '/run/netns/tug-x', netIsPrivate: true } })).linux.sysctl, defaults, 'a namespace made for it, given by path');
  assert.equal(buildSpec(input({ Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1024' } })).linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '1024');
  assert.equal(buildSpec(input({}, { namespaces: { net: false } })).linux.sysctl, undefined, 'none in the host\'s namespace');
  assert.equal(buildSpec(input({}, { namespaces: { net: '/proc/42/ns/net' } })).linux.sysctl, undefined, 'none in another container\'s');
  assert.throws(() => buildSpec(input({ Sysctls: { 'net.ipv4.ip_forward': '1' } }, { namespaces: { net: '/proc/42/ns/net' } })), /network namespace/);
});

test('default nofile is docker\'s, capped by what the daemon may grant', () => {
  const n = defaultNofile();
  assert.ok(n > 0 && n <= 1048576);
  assert.deepEqual(buildSpec(input({}, { defaultNofile: undefined })).process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: n, hard: n }]);
});

test('oom score adj defaults to 0 and is range-checked', () => {
  assert.equal(buildSpec(input({ OomScoreAdj: 500 })).process.oomScoreAdj, 500);
  assert.throws(() => buildSpec(input({ OomScoreAdj: 2000 })), /oom score adj/);
});

test('ulimits override the default nofile', () => {
  const s = buildSpec(input({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 100, Hard: 100 }] }));
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }, { type: 'RLIMIT_NPROC', soft: 100, hard: 100 }]);
  assert.throws(() => buildSpec(input({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] })), /invalid ulimit/);
});

test('seccomp: default shape, EPERM, x86 arches', () => {
  const p = defaultSeccomp([...DEFAULT_CAPABILITIES]);
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  if (process.arch === 'x64') assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  const allow = new Set(p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  assert.ok(allow.size > 250, `only ${allow.size} syscalls allowed`);
  for (const n of ['read', 'write', 'pipe', 'pipe2', 'openat', 'execve', 'mmap', 'futex', 'epoll_wait', 'socket', 'chroot', 'exit_group']) assert.ok(allow.has(n), n);
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'init_module', 'kexec_load', 'reboot', 'keyctl', 'add_key', 'swapon', 'bpf', 'clone', 'clone3', 'io_uring_setup', 'open_by_handle_at', 'process_vm_readv']) assert.ok(!allow.has(n), n);
  const clone = p.syscalls!.find((s) => s.names.includes('clone'))!;
  assert.deepEqual(clone.args, [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.equal(CLONE_NAMESPACE_FLAGS, 0x7e020000);
  const clone3 = p.syscalls!.find((s) => s.names.includes('clone3'))!;
  assert.equal(clone3.action, 'SCMP_ACT_ERRNO');
  assert.equal(clone3.errnoRet, 38);
  assert.ok(p.syscalls!.some((s) => s.names.includes('personality') && s.args?.[0].value === 0));
});

test('seccomp: capabilities unlock their syscalls', () => {
  const p = defaultSeccomp([...DEFAULT_CAPABILITIES, 'SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE']);
  const allow = new Set(p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'process_vm_readv', 'kcmp', 'init_module', 'finit_module', 'delete_module']) assert.ok(allow.has(n), n);
  assert.ok(!p.syscalls!.some((s) => s.action === 'SCMP_ACT_ERRNO' && s.names.includes('clone3')));
  // without CAP_SYS_CHROOT there is no chroot
  const noChroot = defaultSeccomp(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'));
  assert.ok(!noChroot.syscalls![0].names.includes('chroot'));
  // spec passes its effective caps through
  const s = buildSpec(input({ CapAdd: ['SYS_ADMIN'] }));
  assert.ok(s.linux.seccomp!.syscalls![0].names.includes('mount'));
});

test('seccomp: docker-format profile conversion', () => {
  const profile = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { name: 'ptrace', action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_PTRACE'] } },
    ],
  });
  const p = seccompFromProfile(profile, ['CAP_CHOWN']);
  assert.deepEqual(p.syscalls!.map((s) => s.names), [['read', 'write'], ['ptrace']]);
  if (process.arch === 'x64') assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  const s = buildSpec(input({ SecurityOpt: [`seccomp=${profile}`] }));
  assert.equal(s.linux.seccomp!.syscalls!.length, 2);
  assert.throws(() => buildSpec(input({ SecurityOpt: ['seccomp={not json'] })), /seccomp profile/);
});
