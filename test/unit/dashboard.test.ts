// The dashboard's parsing of the run form (as docker run reads -p, -m and a command line), its figures (as docker
// stats computes them), the log frames it splits, its --dashboard address and its login token file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuPercent, humanSize, memoryUsed, parseBytes, parsePorts, portsText, splitCommand } from '../../src/dashboard/ui/format.ts';
import { demux } from '../../src/dashboard/ui/api.ts';
import { dashboardAddress } from '../../src/daemon/config.ts';
import { dashboardToken } from '../../src/dashboard/token.ts';
import { tarOf } from '../../src/dashboard/ui/tar.ts';
import { readTar } from './_tar.ts';

test('ports as -p takes them: [ip:][host:]container[/proto], a bare port published on a random one', () => {
  assert.deepEqual(parsePorts('8080:80, 127.0.0.1:5353:53/udp 443'), {
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, '443/tcp': {} },
    PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }], '443/tcp': [{ HostIp: '', HostPort: '' }] },
  });
  assert.deepEqual(parsePorts(''), { ExposedPorts: {}, PortBindings: {} });
  for (const bad of ['80:abc', '70000', '1:2:3:4', '80/icmp', 'x']) assert.throws(() => parsePorts(bad), /invalid port mapping/, bad);
  assert.equal(portsText([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }]), '0.0.0.0:8080->80/tcp, 53/udp');
});

test('sizes as -m takes them, and as docker prints them', () => {
  assert.equal(parseBytes('64m'), 64 * 1024 * 1024);
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('1.5k'), 1536);
  assert.equal(parseBytes('100'), 100);
  assert.throws(() => parseBytes('lots'), /invalid size: lots/);
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(4_300_000), '4.30MB');
});

test('a command line split into words as a shell does', () => {
  assert.deepEqual(splitCommand(`sh -c 'echo "hi there"; sleep 1'`), ['sh', '-c', 'echo "hi there"; sleep 1']);
  assert.deepEqual(splitCommand(`echo "a \\"b\\"" c\\ d ''`), ['echo', 'a "b"', 'c d', '']);
  assert.deepEqual(splitCommand('  '), []);
  assert.throws(() => splitCommand(`echo 'oops`), /unterminated ' quote/);
});

test("CPU % and memory as docker stats computes them", () => {
  const s = {
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 120_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 100_000_000_000 },
    memory_stats: { usage: 50_000_000, limit: 100_000_000, stats: { inactive_file: 10_000_000 } },
  };
  assert.equal(cpuPercent(s), 10); // 1 s of 20 s of host CPU time, on 2 CPUs
  assert.equal(memoryUsed(s), 40_000_000);
  assert.equal(cpuPercent({ ...s, precpu_stats: { cpu_usage: { total_usage: 0 } } }), 0, 'the first sample has no previous one');
});

test('log frames: stdout and stderr payloads in order, a cut-off frame dropped', () => {
  const frame = (stream: number, text: string) => { const b = Buffer.alloc(8 + text.length); b[0] = stream; b.writeUInt32BE(text.length, 4); b.write(text, 8); return b; };
  const bytes = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'cut').subarray(0, 6)]);
  assert.equal(Buffer.from(demux(new Uint8Array(bytes))).toString(), 'out\nerr\n');
});

test('--dashboard addresses: host:port, :port for all interfaces, [v6]:port; the rest refused', () => {
  assert.deepEqual(dashboardAddress('127.0.0.1:9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(dashboardAddress(':9000'), { host: '0.0.0.0', port: 9000 });
  assert.deepEqual(dashboardAddress('[::1]:9000'), { host: '::1', port: 9000 });
  assert.equal(dashboardAddress(undefined), undefined);
  for (const bad of ['9000', 'localhost:0', 'host:99999', 'a:b:c', 42]) assert.throws(() => dashboardAddress(bad), /invalid dashboard address/, String(bad));
});

test('the login token: made once (readable by its owner only), the same after a restart, made again if mangled', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dash-'));
  try {
    const first = await dashboardToken(root);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(statSync(join(root, 'dashboard/token')).mode & 0o777, 0o600);
    assert.equal(await dashboardToken(root), first);
    writeFileSync(join(root, 'dashboard/token'), 'short\n');
    const again = await dashboardToken(root);
    assert.match(again, /^[0-9a-f]{64}$/);
    assert.notEqual(again, first);
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('the build context the page makes is a tar that tar-stream reads back: names, modes, bodies', async () => {
  const data = new TextEncoder().encode('FROM busybox\nRUN echo hi\n');
  const tar = tarOf([{ name: 'Dockerfile', data }, { name: 'dir/run.sh', data: new TextEncoder().encode('#!/bin/sh\n'), mode: 0o755 }], 1_700_000_000);
  assert.equal(tar.length % 512, 0);
  const seen = (await readTar(Buffer.from(tar))).map((e) => ({ name: e.name, mode: e.mode, mtime: e.mtime, body: e.body }));
  assert.deepEqual(seen, [
    { name: 'Dockerfile', mode: 0o644, mtime: new Date(1_700_000_000_000), body: 'FROM busybox\nRUN echo hi\n' },
    { name: 'dir/run.sh', mode: 0o755, mtime: new Date(1_700_000_000_000), body: '#!/bin/sh\n' },
  ]);
});
