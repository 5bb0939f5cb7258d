import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCgroupMounts, layoutOf, containerCgroup, removeCgroup, parseKeyValues, cgroupLayout, parseBlkioV1, parseIoStatV2, type CgroupHost } from '../../src/sys/cgroups.ts';

const HYBRID = `
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`;
const V1_COMBINED = `
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
`;
const V2 = `
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

test('mountinfo parsing and layout', () => {
  const h = parseCgroupMounts(HYBRID, () => ['hugetlb']);
  assert.deepEqual(h.map((x) => [x.version, x.mountpoint, x.controllers.join(',')]), [
    [1, '/sys/fs/cgroup/cpu', 'cpu'],
    [1, '/sys/fs/cgroup/cpuacct', 'cpuacct'],
    [1, '/sys/fs/cgroup/memory', 'memory'],
    [1, '/sys/fs/cgroup/pids', 'pids'],
    [1, '/sys/fs/cgroup/systemd', 'name=systemd'],
    [2, '/sys/fs/cgroup/unified', 'hugetlb'],
  ]);
  assert.equal(layoutOf(h), 'hybrid');
  assert.equal(layoutOf(parseCgroupMounts(V1_COMBINED)), 'v1');
  assert.equal(layoutOf(parseCgroupMounts(V2, () => ['cpu', 'memory', 'pids'])), 'v2');
  assert.deepEqual(parseCgroupMounts(V1_COMBINED)[0].controllers, ['cpu', 'cpuacct']);
  assert.ok(['v1', 'hybrid', 'v2'].includes(cgroupLayout()));
});

function fakeV1(root: string): CgroupHost {
  const hier = (name: string, controllers: string[]) => ({ version: 1 as const, mountpoint: join(root, name), controllers });
  return {
    layout: 'hybrid',
    hierarchies: [hier('cpu,cpuacct', ['cpu', 'cpuacct']), hier('memory', ['memory']), hier('pids', ['pids']), { version: 2, mountpoint: join(root, 'unified'), controllers: [] }],
  };
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

test('v1 directories and stats', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cg-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const h = fakeV1(root);
  const cg = containerCgroup('/tugboat/c1', h);
  assert.equal(cg.dir('memory'), join(root, 'memory/tugboat/c1'));
  assert.equal(cg.dir('cpuacct'), join(root, 'cpu,cpuacct/tugboat/c1'));
  assert.equal(cg.dir('blkio'), undefined);
  assert.equal(cg.dirs().length, 4);

  const mem = join(root, 'memory/tugboat/c1');
  write(join(mem, 'memory.usage_in_bytes'), '1048576\n');
  write(join(mem, 'memory.limit_in_bytes'), '9223372036854771712\n');
  write(join(mem, 'memory.stat'), 'cache 4096\nrss 8192\ntotal_inactive_file 4096\n');
  write(join(mem, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
  assert.deepEqual(cg.memory(), { usage: 1048576, limit: undefined, stat: { cache: 4096, rss: 8192, total_inactive_file: 4096 } });
  assert.equal(cg.oomKills(), 2);
  write(join(mem, 'memory.limit_in_bytes'), '268435456\n');
  assert.equal(cg.memory()!.limit, 268435456);
  // old kernels: no oom_kill line, fall back to failcnt
  write(join(mem, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\n');
  write(join(mem, 'memory.failcnt'), '0\n');
  assert.equal(cg.oomKills(), 0);
  write(join(mem, 'memory.failcnt'), '7\n');
  assert.equal(cg.oomKills(), 1);

  const cpu = join(root, 'cpu,cpuacct/tugboat/c1');
  write(join(cpu, 'cpuacct.usage'), '5000000000\n');
  write(join(cpu, 'cpuacct.stat'), 'user 300\nsystem 200\n');
  assert.deepEqual(cg.cpu(), { usageNs: 5e9, userNs: 3e9, systemNs: 2e9, perCpuNs: undefined, throttling: { periods: 0, throttledPeriods: 0, throttledNs: 0 } });
  write(join(cpu, 'cpuacct.usage_percpu'), '3000000000 2000000000 \n');
  write(join(cpu, 'cpu.stat'), 'nr_periods 40\nnr_throttled 12\nthrottled_time 900000000\n');
  write(join(root, 'memory/tugboat/c1/memory.max_usage_in_bytes'), '2097152\n');
  assert.deepEqual(cg.cpu(), { usageNs: 5e9, userNs: 3e9, systemNs: 2e9, perCpuNs: [3e9, 2e9], throttling: { periods: 40, throttledPeriods: 12, throttledNs: 9e8 } });
  assert.equal(cg.memory()!.maxUsage, 2097152);

  const pids = join(root, 'pids/tugboat/c1');
  write(join(pids, 'cgroup.procs'), '12\n7\n');
  write(join(pids, 'sub/cgroup.procs'), '30\n');
  write(join(pids, 'pids.current'), '3\n');
  write(join(pids, 'pids.max'), 'max\n');
  assert.deepEqual(cg.pids(), [7, 12, 30]);
  assert.deepEqual(cg.pidsCount(), { current: 3, limit: undefined });
});

test('v2 stats', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cg-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const h: CgroupHost = { layout: 'v2', hierarchies: [{ version: 2, mountpoint: root, controllers: ['cpu', 'memory', 'pids'] }] };
  const cg = containerCgroup('/tugboat/c2', h);
  const d = join(root, 'tugboat/c2');
  assert.equal(cg.dir('memory'), d);
  assert.equal(cg.dir('pids'), d);
  write(join(d, 'memory.current'), '2048\n');
  write(join(d, 'memory.max'), 'max\n');
  write(join(d, 'memory.stat'), 'anon 1024\nfile 1024\n');
  write(join(d, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  write(join(d, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 2500\n');
  write(join(d, 'cgroup.procs'), '99\n');
  write(join(d, 'pids.current'), '1\n');
  write(join(d, 'pids.max'), '10\n');
  assert.deepEqual(cg.memory(), { usage: 2048, limit: undefined, stat: { anon: 1024, file: 1024 } });
  write(join(d, 'memory.max'), '1073741824\n');
  assert.equal(cg.memory()!.limit, 1073741824);
  assert.equal(cg.oomKills(), 1);
  assert.deepEqual(cg.cpu(), { usageNs: 1500000, userNs: 1000000, systemNs: 500000, throttling: { periods: 10, throttledPeriods: 4, throttledNs: 2500000 } });
  assert.deepEqual(cg.pids(), [99]);
  assert.deepEqual(cg.pidsCount(), { current: 1, limit: 10 });
});

test('missing cgroup reads as nothing', () => {
  const h: CgroupHost = { layout: 'v2', hierarchies: [{ version: 2, mountpoint: '/nonexistent-cg-root', controllers: [] }] };
  const cg = containerCgroup('/tugboat/none', h);
  assert.equal(cg.memory(), undefined);
  assert.equal(cg.cpu(), undefined);
  assert.deepEqual(cg.pids(), []);
  assert.equal(cg.oomKills(), 0);
});

test('removeCgroup removes nested dirs in every hierarchy, ignores missing ones', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cg-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const h = fakeV1(root);
  mkdirSync(join(root, 'memory/tugboat/c3/child'), { recursive: true });
  mkdirSync(join(root, 'pids/tugboat/c3'), { recursive: true });
  // cpu,cpuacct and unified have nothing: ENOENT is fine
  await removeCgroup('/tugboat/c3', h);
  assert.ok(!existsSync(join(root, 'memory/tugboat/c3')));
  assert.ok(!existsSync(join(root, 'pids/tugboat/c3')));
  assert.ok(existsSync(join(root, 'memory/tugboat')));
  await removeCgroup('/tugboat/c3', h); // idempotent
  await assert.rejects(removeCgroup('/', h), /invalid cgroup path/);
  await assert.rejects(removeCgroup('/tugboat/../x', h), /invalid cgroup path/);
});

test('removeCgroup gives up on a busy cgroup after its timeout', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cg-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const h = fakeV1(root);
  write(join(root, 'memory/tugboat/c4/cgroup.procs'), '1\n'); // a plain dir with a file: rmdir says ENOTEMPTY
  await assert.rejects(removeCgroup('/tugboat/c4', h, 50), /still busy/);
});

test('key/value parsing', () => {
  assert.deepEqual(parseKeyValues('a 1\nb -2\n\nc x\n'), { a: 1, b: -2 });
});

test('block I/O counters: v1 throttle files and v2 io.stat', () => {
  const v1 = parseBlkioV1('8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n');
  assert.deepEqual(v1.filter((e) => e.op === 'Read' || e.op === 'Write'), [
    { major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }]);
  const v2 = parseIoStatV2('254:0 rbytes=1000 wbytes=2000 rios=3 wios=4 dbytes=0 dios=0\n');
  assert.deepEqual(v2.bytes, [{ major: 254, minor: 0, op: 'read', value: 1000 }, { major: 254, minor: 0, op: 'write', value: 2000 }]);
  assert.deepEqual(v2.ios.map((e) => e.value), [3, 4]);
});
