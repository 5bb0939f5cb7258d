// The Python docker SDK (Debian's python3-docker, docker-py 5) drives tugd: containers (run, logs, exec_run, stats,
// list by label, ports, get_archive/put_archive, stop, remove, prune), volumes, networks, a build, a missing
// container's 404. The script prints what it saw as JSON; the test checks it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const SCRIPT = String.raw`import sys, docker, io, tarfile, json
c = docker.DockerClient(base_url=sys.argv[1], version='1.41')  # docker-py 5 asks for 1.41
out = {}
out['ping'] = c.ping()
out['version'] = c.version()['ApiVersion']
ct = c.containers.run('busybox', ['sh', '-c', 'echo sdk-hello; sleep 100'], detach=True, name='sdk1', labels={'via': 'sdk'}, environment={'A': 'b'}, ports={'80/tcp': None})
ct.reload()
out['status'] = ct.status
out['logs'] = None
import time
for _ in range(50):
    l = ct.logs().decode()
    if 'sdk-hello' in l: out['logs'] = l.strip(); break
    time.sleep(0.1)
r = ct.exec_run(['sh', '-c', 'echo $A; exit 3'])
out['exec'] = [r.exit_code, r.output.decode().strip()]
s = ct.stats(stream=False)
out['stats_keys'] = sorted(k for k in ['cpu_stats', 'memory_stats', 'pids_stats', 'networks'] if k in s)
out['listed'] = [x.name for x in c.containers.list(filters={'label': 'via=sdk'})]
out['ports'] = ct.ports
bits, stat = ct.get_archive('/etc/hostname')
data = b''.join(bits)
t = tarfile.open(fileobj=io.BytesIO(data))
out['archive'] = [t.getnames(), stat['name']]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tw:
    info = tarfile.TarInfo('put.txt'); payload = b'put-by-sdk'; info.size = len(payload); tw.addfile(info, io.BytesIO(payload))
ct.put_archive('/tmp', buf.getvalue())
out['put'] = ct.exec_run(['cat', '/tmp/put.txt']).output.decode()
ct.stop(timeout=1)
ct.reload()
out['after_stop'] = [ct.status, ct.attrs['State']['ExitCode']]
ct.remove()
v = c.volumes.create('sdkvol', labels={'x': 'y'})
out['volume'] = [v.name, v.attrs['Labels']]
v.remove()
n = c.networks.create('sdknet', driver='bridge')
out['network'] = n.name
n.remove()
img, logs = c.images.build(fileobj=io.BytesIO(b'FROM busybox\nRUN echo built > /b\n'), tag='sdkbuilt:1', rm=True)
out['build'] = img.tags
out['run_rm'] = c.containers.run('sdkbuilt:1', ['cat', '/b'], remove=True).decode().strip()
try:
    c.containers.get('nosuch')
except docker.errors.NotFound as e:
    out['notfound'] = e.status_code
c.images.remove('sdkbuilt:1')
out['prune'] = sorted(c.containers.prune().keys())
print(json.dumps(out))
`;

test('the Python docker SDK: containers, exec, stats, archives, volumes, networks, a build and its errors', () => {
  const script = join(d.dir, 'sdk.py');
  writeFileSync(script, SCRIPT);
  const r = spawnSync('python3', [script, d.host], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(out.ping, true);
  assert.equal(out.version, '1.44');
  assert.equal(out.status, 'running');
  assert.equal(out.logs, 'sdk-hello');
  assert.deepEqual(out.exec, [3, 'b']);
  assert.deepEqual(out.stats_keys, ['cpu_stats', 'memory_stats', 'networks', 'pids_stats']);
  assert.deepEqual(out.listed, ['sdk1']);
  const ports = out.ports as Record<string, Array<{ HostIp: string; HostPort: string }>>;
  assert.match(ports['80/tcp'][0].HostPort, /^\d+$/);
  assert.deepEqual(out.archive, [['hostname'], 'hostname']);
  assert.equal(out.put, 'put-by-sdk');
  assert.deepEqual(out.after_stop, ['exited', 137]); // sh as PID 1 ignores SIGTERM: killed after the timeout
  assert.deepEqual(out.volume, ['sdkvol', { x: 'y' }]);
  assert.equal(out.network, 'sdknet');
  assert.deepEqual(out.build, ['sdkbuilt:1']);
  assert.equal(out.run_rm, 'built');
  assert.equal(out.notfound, 404);
  assert.deepEqual(out.prune, ['ContainersDeleted', 'SpaceReclaimed']);
  assert.equal(d.tug(['ps', '-aq']).stdout.trim(), '', 'nothing left behind');
});
