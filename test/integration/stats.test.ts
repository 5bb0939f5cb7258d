// docker stats against tugd: the CPU %, memory, NET I/O and PIDs columns come from the container's cgroup and network namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { TestDaemon, eventually } from '../helpers/daemon.ts';
import { freePort } from '../helpers/build.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

test('docker stats --no-stream shows CPU near the --cpus limit, the memory limit and the PIDs', () => {
  assert.equal(d.tug(['run', '-d', '--name', 'hog', '--cpus', '0.5', '-m', '64m', 'busybox', 'sh', '-c', 'while true; do :; done']).code, 0);
  assert.equal(d.tug(['run', '-d', '--name', 'idle', 'busybox', 'sleep', '1000']).code, 0);
  const r = d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}']);
  assert.equal(r.code, 0, r.stderr);
  const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => { const [name, ...rest] = l.split(' '); return [name, rest.join(' ')]; }));
  const hogCpu = parseFloat(rows.hog);
  assert.ok(hogCpu > 30 && hogCpu < 65, `hog CPU ${rows.hog}`);
  assert.match(rows.hog, /\/ 64MiB 1$/);
  assert.ok(parseFloat(rows.idle) < 5, `idle CPU ${rows.idle}`);
  assert.match(rows.idle, / 1$/);
  const mine = d.tug(['stats', '--no-stream']);
  assert.equal(mine.code, 0, mine.stderr);
  assert.match(mine.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
  const hogRow = mine.stdout.split('\n').find((l) => / hog /.test(l)) ?? '';
  const tugCpu = parseFloat(hogRow.split(/\s+/)[2]);
  assert.ok(tugCpu > 30 && tugCpu < 65, `tug stats hog CPU: ${hogRow}`);
  assert.match(hogRow, /\/ 64MiB/);
});

test('a single answer asked for again at once still spans a real interval: precpu is an earlier reading than cpu', async () => {
  type Cpu = { system_cpu_usage: number; cpu_usage: { total_usage: number } };
  const read = async () => (await d.req('GET', '/containers/hog/stats?stream=0')).json<{ cpu_stats: Cpu; precpu_stats: Cpu }>();
  await read();
  for (let i = 0; i < 3; i++) {
    const s = await read(); // right after the previous one
    assert.ok(s.precpu_stats.system_cpu_usage > 0, 'a previous reading');
    assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage, `system time moved on between the readings: ${JSON.stringify(s.precpu_stats)} → ${JSON.stringify(s.cpu_stats)}`);
  }
});

test('a container held to half a CPU shows its throttling (cpu_stats.throttling_data), as the cgroup counts it', async () => {
  const s = (await d.req('GET', '/containers/hog/stats?stream=0&one-shot=1')).json<{ cpu_stats: { throttling_data: { periods: number; throttled_periods: number; throttled_time: number }; cpu_usage: { total_usage: number; percpu_usage?: number[] } }; memory_stats: { max_usage?: number; usage: number } }>();
  const t = s.cpu_stats.throttling_data;
  assert.ok(t.periods > 0 && t.throttled_periods > 0 && t.throttled_time > 0, JSON.stringify(t));
  assert.ok(t.throttled_periods <= t.periods);
  // cgroup v1 also counts per CPU and keeps a memory high-water mark; v2 has neither
  if (s.cpu_stats.cpu_usage.percpu_usage) {
    const sum = s.cpu_stats.cpu_usage.percpu_usage.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - s.cpu_stats.cpu_usage.total_usage) / s.cpu_stats.cpu_usage.total_usage < 0.05, `${sum} vs ${s.cpu_stats.cpu_usage.total_usage}`);
    assert.ok((s.memory_stats.max_usage ?? 0) >= s.memory_stats.usage);
  }
});

test('one-shot stats carry the docker fields from the cgroup; a missing container is 404', async () => {
  const res = await d.req('GET', '/containers/idle/stats?stream=0&one-shot=1');
  assert.equal(res.status, 200);
  const s = res.json<{ id: string; name: string; memory_stats: { usage: number }; pids_stats: { current: number }; cpu_stats: { online_cpus: number } }>();
  assert.equal(s.name, '/idle');
  assert.ok(s.memory_stats.usage > 0);
  assert.equal(s.pids_stats.current, 1);
  assert.ok(s.cpu_stats.online_cpus >= 1);
  assert.equal((await d.req('GET', '/containers/nope/stats?stream=0')).status, 404);
});

test('a memory hog: the memory figure is what the cgroup file says, and docker stats shows it', async () => {
  assert.equal(d.tug(['run', '-d', '--name', 'memhog', 'busybox', 'sh', '-c', 'head -c 40000000 /dev/zero > /dev/shm/x; sleep 1000']).code, 0);
  const id = d.tug(['inspect', '-f', '{{.Id}}', 'memhog']).stdout.trim();
  const file = ['/sys/fs/cgroup/memory/tugboat', '/sys/fs/cgroup/tugboat'].map((root) => `${root}/${id}/${root.includes('/memory/') ? 'memory.usage_in_bytes' : 'memory.current'}`).find((f) => existsSync(f));
  assert.ok(file, 'the container has a memory cgroup');
  await eventually(() => Number(readFileSync(file, 'utf8')), (n) => n > 40e6);
  const res = await d.req('GET', '/containers/memhog/stats?stream=0&one-shot=1');
  const usage = res.json<{ memory_stats: { usage: number } }>().memory_stats.usage;
  const onDisk = Number(readFileSync(file, 'utf8'));
  assert.ok(Math.abs(usage - onDisk) < 2 << 20, `API ${usage} vs cgroup ${onDisk}`);
  const row = d.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'memhog']).stdout;
  assert.match(row, /^(3[89]|4\d)\.\d+MiB \//, row);
  assert.equal(d.tug(['rm', '-f', 'memhog']).code, 0);
});

test('network counters: what the container sent shows in its stats (networks.eth0) and in docker stats NET I/O', async () => {
  const port = await freePort();
  assert.equal(d.tug(['run', '-d', '--name', 'sender', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'mkdir /w && head -c 3000000 /dev/zero > /w/big && exec httpd -f -p 80 -h /w']).code, 0);
  const body = await eventually(() => fetch(`http://127.0.0.1:${port}/big`).then((r) => r.arrayBuffer()).catch(() => new ArrayBuffer(0)), (b) => b.byteLength === 3_000_000);
  assert.equal(body.byteLength, 3_000_000);
  const s = (await d.req('GET', '/containers/sender/stats?stream=0&one-shot=1')).json<{ networks?: Record<string, { tx_bytes: number; rx_bytes: number; tx_packets: number }> }>();
  assert.deepEqual(Object.keys(s.networks ?? {}), ['eth0'], 'loopback is left out');
  assert.ok(s.networks!.eth0.tx_bytes > 3_000_000, `tx_bytes ${s.networks!.eth0.tx_bytes}`);
  assert.ok(s.networks!.eth0.rx_bytes > 0 && s.networks!.eth0.tx_packets > 0);
  // docker stats sums the interfaces into NET I/O: received / sent
  const row = d.docker(['stats', '--no-stream', '--format', '{{.NetIO}}', 'sender']).stdout.trim();
  assert.match(row, /^[\d.]+k?B \/ 3(\.\d+)?MB$/, row);
  assert.match(d.tug(['stats', '--no-stream', '--format', '{{.NetIO}}', 'sender']).stdout.trim(), /^[\d.]+k?B \/ 3(\.\d+)?MB$/);
  // on the host's network the container has no counters of its own
  assert.equal(d.tug(['run', '-d', '--name', 'onhost', '--network', 'host', 'busybox', 'sleep', '1000']).code, 0);
  const h = (await d.req('GET', '/containers/onhost/stats?stream=0&one-shot=1')).json<{ networks?: unknown }>();
  assert.equal(h.networks, undefined);
  assert.equal(d.tug(['rm', '-f', 'sender', 'onhost']).code, 0);
});
