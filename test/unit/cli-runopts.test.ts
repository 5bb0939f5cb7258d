// run/create flags → POST /containers/create body, checked against what docker's CLI sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCreateRequest, parseDevice, parseEnvFile, parsePublish, parseRestart, parseUlimit, withDefaultTag } from '../../src/cli/runopts.ts';
import { FlagError, UsageError } from '../../src/cli/errors.ts';

test('attached run: stdout/stderr attached; -i adds stdin, OpenStdin and StdinOnce; -t sets Tty', () => {
  let b = buildCreateRequest('busybox', ['echo', 'hi'], {}).body;
  assert.equal(b.Image, 'busybox');
  assert.deepEqual(b.Cmd, ['echo', 'hi']);
  assert.deepEqual([b.AttachStdin, b.AttachStdout, b.AttachStderr, b.OpenStdin, b.StdinOnce, b.Tty], [false, true, true, false, false, false]);
  b = buildCreateRequest('busybox', [], { interactive: true, tty: true }).body;
  assert.deepEqual([b.AttachStdin, b.OpenStdin, b.StdinOnce, b.Tty], [true, true, true, true]);
  assert.equal(b.Cmd, undefined, 'no command means the image default');
  b = buildCreateRequest('busybox', [], { detach: true, interactive: true }).body;
  assert.deepEqual([b.AttachStdin, b.AttachStdout, b.AttachStderr, b.OpenStdin, b.StdinOnce], [false, false, false, true, false]);
  b = buildCreateRequest('busybox', [], { attach: ['STDOUT'] }).body;
  assert.deepEqual([b.AttachStdin, b.AttachStdout, b.AttachStderr], [false, true, false]);
});

test('resources: memory strings, swap -1, cpus → NanoCpus, shares, cpuset, pids', () => {
  const hc = buildCreateRequest('i', [], { memory: '512m', memorySwap: '-1', cpus: '0.5', cpuShares: '512', cpusetCpus: '0-1', pidsLimit: '100' }).body.HostConfig;
  assert.equal(hc.Memory, 512 * 1024 * 1024);
  assert.equal(hc.MemorySwap, -1);
  assert.equal(hc.NanoCpus, 500000000);
  assert.equal(hc.CpuShares, 512);
  assert.equal(hc.CpusetCpus, '0-1');
  assert.equal(hc.PidsLimit, 100);
  assert.equal(buildCreateRequest('i', [], { memory: '1g', memorySwap: '2g', cpus: '1.5' }).body.HostConfig.MemorySwap, 2 * 1024 ** 3);
  assert.equal(buildCreateRequest('i', [], { cpus: '1.5' }).body.HostConfig.NanoCpus, 1500000000);
  assert.throws(() => buildCreateRequest('i', [], { memory: '12x' }), (e: unknown) => e instanceof FlagError && /invalid suffix: 'x'/.test(e.message));
  assert.throws(() => buildCreateRequest('i', [], { cpus: 'abc' }), /failed to parse abc as a rational number/);
  // block device limits: a path under /dev and a rate (bytes with units, or a count)
  const io = buildCreateRequest('i', [], { deviceReadBps: ['/dev/vda:1mb'], deviceWriteIops: ['/dev/vda:100'], blkioWeightDevice: ['/dev/sdb:300'] }).body.HostConfig;
  assert.deepEqual(io.BlkioDeviceReadBps, [{ Path: '/dev/vda', Rate: 1024 * 1024 }]);
  assert.deepEqual(io.BlkioDeviceWriteIOps, [{ Path: '/dev/vda', Rate: 100 }]);
  assert.deepEqual(io.BlkioWeightDevice, [{ Path: '/dev/sdb', Weight: 300 }]);
  assert.throws(() => buildCreateRequest('i', [], { deviceReadBps: ['/dev/vda'] }), /bad format: \/dev\/vda/);
  assert.throws(() => buildCreateRequest('i', [], { deviceReadBps: ['/tmp/x:1mb'] }), /bad format for device path/);
  assert.throws(() => buildCreateRequest('i', [], { deviceWriteIops: ['/dev/vda:lots'] }), /invalid syntax/);
  assert.throws(() => buildCreateRequest('i', [], { pidsLimit: 'many' }), FlagError);
});

test('restart policies', () => {
  assert.deepEqual(parseRestart('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseRestart('on-failure'), { Name: 'on-failure' });
  assert.deepEqual(parseRestart('always'), { Name: 'always' });
  assert.deepEqual(parseRestart('unless-stopped'), { Name: 'unless-stopped' });
  assert.deepEqual(parseRestart('no'), { Name: 'no' });
  assert.throws(() => parseRestart('always:3'), UsageError);
  assert.throws(() => parseRestart('sometimes'), /invalid restart policy/);
  assert.deepEqual(buildCreateRequest('i', [], {}).body.HostConfig.RestartPolicy, { Name: 'no' });
  assert.throws(() => buildCreateRequest('i', [], { rm: true, restart: 'always' }), /conflicting options: cannot specify both --restart and --rm/);
  assert.equal(buildCreateRequest('i', [], { rm: true }).body.HostConfig.AutoRemove, true);
});

test('identity, process and security flags', () => {
  const r = buildCreateRequest('i', ['x'], {
    name: 'web', workdir: '/w', user: '1000:1000', entrypoint: '/bin/sh', hostname: 'h', init: true, privileged: true, readOnly: true,
    capAdd: ['net_admin', 'CAP_SYS_TIME', 'ALL'], capDrop: ['MKNOD'], securityOpt: ['no-new-privileges'], runtime: 'crun',
    stopSignal: 'SIGINT', stopTimeout: '5', logDriver: 'json-file', logOpt: ['max-size=10m', 'max-file=3'],
  });
  const b = r.body;
  assert.equal(r.name, 'web');
  assert.deepEqual([b.WorkingDir, b.User, b.Hostname, b.StopSignal, b.StopTimeout], ['/w', '1000:1000', 'h', 'SIGINT', 5]);
  assert.deepEqual(b.Entrypoint, ['/bin/sh']);
  assert.deepEqual(buildCreateRequest('i', [], { entrypoint: '' }).body.Entrypoint, ['']);
  const hc = b.HostConfig;
  assert.deepEqual([hc.Init, hc.Privileged, hc.ReadonlyRootfs, hc.Runtime], [true, true, true, 'crun']);
  assert.deepEqual(hc.CapAdd, ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'ALL']);
  assert.deepEqual(hc.CapDrop, ['CAP_MKNOD']);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges']);
  assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.equal(hc.NetworkMode, 'default');
});

test('env: -e KEY=V, -e KEY from our environment (bare when unset), --env-file; labels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tug-env-'));
  const file = join(dir, 'env');
  writeFileSync(file, '# comment\n\nA=1\nFROMENV\nSPACES=a b \n');
  const b = buildCreateRequest('i', [], { envFile: [file], env: ['B=2', 'FROMENV', 'UNSET_X'], label: ['a=b', 'flag', 'c=d=e'] }, { FROMENV: 'yes' }).body;
  assert.deepEqual(b.Env, ['A=1', 'FROMENV=yes', 'SPACES=a b ', 'B=2', 'FROMENV=yes', 'UNSET_X']);
  assert.deepEqual(b.Labels, { a: 'b', flag: '', c: 'd=e' });
  assert.deepEqual(parseEnvFile('X\n', {}), []);
  assert.throws(() => parseEnvFile('=bad\n'), /invalid environment variable/);
  assert.throws(() => buildCreateRequest('i', [], { envFile: [join(dir, 'missing')] }), /no such file or directory/);
});

test('ports, volumes, network', () => {
  const p = parsePublish(['8080:80', '127.0.0.1:53:53/udp', '9000', '7000-7001:8000-8001', '[::1]:443:443']);
  assert.deepEqual(p.bindings['80/tcp'], [{ HostIp: '', HostPort: '8080' }]);
  assert.deepEqual(p.bindings['53/udp'], [{ HostIp: '127.0.0.1', HostPort: '53' }]);
  assert.deepEqual(p.bindings['9000/tcp'], [{ HostIp: '', HostPort: '' }]);
  assert.deepEqual(p.bindings['8001/tcp'], [{ HostIp: '', HostPort: '7001' }]);
  assert.deepEqual(p.bindings['443/tcp'], [{ HostIp: '::1', HostPort: '443' }]);
  assert.ok('8000/tcp' in p.exposed);
  assert.throws(() => parsePublish(['1:2:3:4']), UsageError);
  const b = buildCreateRequest('i', [], { volume: ['/data:/data:ro', '/anon'], network: 'host', publish: ['80'], expose: ['9000/udp'] }).body;
  assert.deepEqual(b.HostConfig.Binds, ['/data:/data:ro']);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.equal(b.HostConfig.NetworkMode, 'host');
  assert.deepEqual(Object.keys(b.ExposedPorts ?? {}).sort(), ['80/tcp', '9000/udp']);
});

test('image names for the "Unable to find image" message', () => {
  assert.equal(withDefaultTag('busybox'), 'busybox:latest');
  assert.equal(withDefaultTag('busybox:1.36'), 'busybox:1.36');
  assert.equal(withDefaultTag('localhost:5000/bb'), 'localhost:5000/bb:latest');
  assert.equal(withDefaultTag('bb@sha256:abc'), 'bb@sha256:abc');
});

test('limits and devices: --ulimit, --device, CFS period/quota, reservation, swappiness, OOM, blkio; --label-file under -l', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Soft: 1024, Hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=64'), { Name: 'nproc', Soft: 64, Hard: 64 });
  assert.throws(() => parseUlimit('nofile=x'), FlagError);
  assert.throws(() => parseUlimit('nofile=10:5'), /soft limit must be less than or equal to hard limit/);
  assert.deepEqual(parseDevice('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/sda:/dev/xvdc:r'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'r' });
  assert.deepEqual(parseDevice('/dev/sda:rw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rw' });
  assert.throws(() => parseDevice('/dev/sda:/x:rwx'), FlagError);
  const dir = mkdtempSync(join(tmpdir(), 'tug-labels-'));
  writeFileSync(join(dir, 'labels'), 'team=boats\n# a comment\n\nenv=dev\n');
  const hc = buildCreateRequest('busybox', [], {
    ulimit: ['nofile=10:20'], device: ['/dev/null:/dev/n'], cpuPeriod: '100000', cpuQuota: '50000', cpusetMems: '0',
    memoryReservation: '32m', memorySwappiness: '10', oomKillDisable: true, oomScoreAdj: '-5', blkioWeight: '300',
    labelFile: [join(dir, 'labels')], label: ['env=prod'],
  });
  assert.deepEqual(hc.body.Labels, { team: 'boats', env: 'prod' }, '-l wins over the file');
  const h = hc.body.HostConfig;
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }]);
  assert.deepEqual(h.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rwm' }]);
  assert.deepEqual([h.CpuPeriod, h.CpuQuota, h.CpusetMems, h.MemoryReservation, h.MemorySwappiness, h.OomKillDisable, h.OomScoreAdj, h.BlkioWeight],
    [100000, 50000, '0', 32 << 20, 10, true, -5, 300]);
  assert.throws(() => buildCreateRequest('busybox', [], { labelFile: [join(dir, 'missing')] }), UsageError);
});
