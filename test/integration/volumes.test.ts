// Volumes and mounts as the seeds use them: a host directory shared with -v, named volumes that outlive their
// containers, copy-up of image content into a new volume, anonymous volumes and rm -v, --volumes-from, --mount
// and tmpfs, the docker CLI's `volume` commands, and what must be refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const fails = (r: { code: number; stdout: string; stderr: string }, re: RegExp) => { assert.notEqual(r.code, 0, r.stdout); assert.match(r.stderr, re); };
const volumeNames = () => readdirSync(join(d.root, 'volumes')).sort();

test('-v a host directory: written inside, seen on the host, and back; :ro is read-only', () => {
  const host = join(d.dir, 'shared');
  mkdirSync(host);
  writeFileSync(join(host, 'from-host.txt'), 'hello from the host\n');
  const out = ok(d.tug(['run', '--rm', '-v', `${host}:/home`, 'busybox', 'sh', '-c', 'cat /home/from-host.txt; echo hello from the container > /home/from-ctr.txt']));
  assert.equal(out, 'hello from the host\n');
  assert.equal(readFileSync(join(host, 'from-ctr.txt'), 'utf8'), 'hello from the container\n');
  const ro = d.tug(['run', '--rm', '-v', `${host}:/home:ro`, 'busybox', 'sh', '-c', 'echo x > /home/nope']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  assert.ok(!existsSync(join(host, 'nope')));
  // a missing host directory is made, as docker does for -v
  ok(d.tug(['run', '--rm', '-v', `${join(d.dir, 'made/by/v')}:/m`, 'busybox', 'true']));
  assert.ok(existsSync(join(d.dir, 'made/by/v')));
  const mounts = JSON.parse(ok(d.tug(['inspect', ok(d.tug(['create', '-v', `${host}:/home:ro`, 'busybox'])).trim()])))[0].Mounts;
  assert.deepEqual(mounts, [{ Type: 'bind', Source: host, Destination: '/home', Mode: 'ro', RW: false, Propagation: 'rprivate' }]);
});

test('a named volume survives rm of its container and is seen by the next; a new one gets the image content (copy-up)', () => {
  ok(d.tug(['run', '--name', 'writer', '-v', 'appdata:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/file']));
  ok(d.tug(['rm', 'writer']));
  assert.equal(ok(d.tug(['run', '--rm', '-v', 'appdata:/data', 'busybox', 'cat', '/data/file'])), 'persisted\n');
  // /etc of the image is copied into the empty volume mounted over it, owners and modes kept
  const listing = ok(d.tug(['run', '--rm', '-v', 'etccopy:/etc', 'busybox', 'sh', '-c', 'cat /etc/passwd | head -1; stat -c "%a %u" /etc/passwd']));
  assert.match(listing, /^root:x:0:0:/);
  assert.ok(existsSync(join(d.root, 'volumes/etccopy/_data/passwd')), 'the content is in the volume');
  // nocopy (--mount volume-nocopy) and a volume that already has data are left alone
  ok(d.docker(['run', '--rm', '--mount', 'type=volume,source=empty,target=/etc,volume-nocopy', 'busybox', 'true']));
  assert.ok(!existsSync(join(d.root, 'volumes/empty/_data/passwd')), 'nothing copied');
});

test('anonymous volumes: the image VOLUME and -v /path get one each; rm -v and --rm remove them, rm alone keeps them', () => {
  const tar = join(d.dir, 'busybox.tar');
  ok(d.tug(['import', '--change', 'VOLUME /state', '--change', 'CMD ["sh"]', tar, 'withvol:1']));
  const beforeCount = volumeNames().length;
  const id = ok(d.tug(['run', '-d', '-v', '/scratch', 'withvol:1', 'sleep', '1000'])).trim();
  const mounts = JSON.parse(ok(d.tug(['inspect', id])))[0].Mounts as Array<{ Type: string; Name: string; Destination: string }>;
  assert.deepEqual(mounts.map((m) => m.Destination).sort(), ['/scratch', '/state']);
  assert.ok(mounts.every((m) => m.Type === 'volume' && /^[0-9a-f]{64}$/.test(m.Name)));
  assert.equal(volumeNames().length, beforeCount + 2);
  ok(d.tug(['rm', '-f', '-v', id]));
  assert.equal(volumeNames().length, beforeCount, 'rm -v removed both');
  ok(d.tug(['run', '--rm', 'withvol:1', 'true']));
  assert.equal(volumeNames().length, beforeCount, '--rm removed its anonymous volume');
  const kept = ok(d.tug(['run', '-d', 'withvol:1', 'true'])).trim();
  ok(d.tug(['wait', kept]));
  ok(d.tug(['rm', kept]));
  assert.equal(volumeNames().length, beforeCount + 1, 'rm without -v keeps it');
});

test('--volumes-from shares another container\'s volumes; tmpfs and --mount kinds', () => {
  ok(d.tug(['run', '-d', '--name', 'datastore', '-v', 'shared:/shared', 'busybox', 'sh', '-c', 'echo via-from > /shared/x; sleep 1000']));
  assert.equal(ok(d.docker(['run', '--rm', '--volumes-from', 'datastore:ro', 'busybox', 'sh', '-c', 'cat /shared/x; echo y > /shared/y 2>&1 || echo read-only'])), 'via-from\nread-only\n');
  assert.match(ok(d.docker(['run', '--rm', '--mount', 'type=tmpfs,target=/fast,tmpfs-size=1m', 'busybox', 'sh', '-c', 'mount | grep " /fast "'])), /tmpfs on \/fast type tmpfs .*size=1024k/);
  assert.match(ok(d.tug(['run', '--rm', '--tmpfs', '/run2:size=2m', 'busybox', 'sh', '-c', 'mount | grep " /run2 "'])), /size=2048k/);
  fails(d.docker(['run', '--rm', '--mount', `type=bind,source=${join(d.dir, 'does-not-exist')},target=/x`, 'busybox', 'true']), /bind source path does not exist/);
  const host = join(d.dir, 'ro-bind');
  mkdirSync(host);
  fails(d.docker(['run', '--rm', '--mount', `type=bind,source=${host},target=/x,readonly`, 'busybox', 'touch', '/x/f']), /Read-only file system/);
  ok(d.tug(['rm', '-f', 'datastore']));
});

test('the docker CLI: volume create, ls, inspect, rm, prune', () => {
  assert.equal(ok(d.docker(['volume', 'create', '--label', 'team=db', 'dvol'])).trim(), 'dvol');
  assert.match(ok(d.docker(['volume', 'ls'])), /local\s+dvol/);
  assert.equal(ok(d.docker(['volume', 'ls', '-q', '--filter', 'label=team=db'])).trim(), 'dvol');
  const v = JSON.parse(ok(d.docker(['volume', 'inspect', 'dvol'])))[0];
  assert.equal(v.Driver, 'local');
  assert.equal(v.Mountpoint, join(d.root, 'volumes/dvol/_data'));
  assert.deepEqual(v.Labels, { team: 'db' });
  ok(d.docker(['run', '-d', '--name', 'user1', '-v', 'dvol:/v', 'busybox', 'sleep', '1000']));
  fails(d.docker(['volume', 'rm', 'dvol']), /volume is in use/);
  ok(d.docker(['rm', '-f', 'user1']));
  fails(d.docker(['volume', 'rm', 'nosuchvol']), /no such volume/);
  ok(d.docker(['volume', 'rm', 'dvol']));
  // a volume with the local driver's options is a mount of its own while used
  ok(d.docker(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m', 'tmpvol']));
  assert.match(ok(d.tug(['run', '--rm', '-v', 'tmpvol:/t', 'busybox', 'sh', '-c', 'mount | grep " /t "'])), /tmpfs on \/t type tmpfs .*size=2048k/);
  ok(d.docker(['volume', 'rm', 'tmpvol']));
  assert.ok(!existsSync(join(d.root, 'volumes/dvol')));
  // prune takes anonymous volumes not in use; -a every unused one
  const pruned = ok(d.docker(['volume', 'prune', '-f']));
  assert.match(pruned, /Total reclaimed space/);
  assert.ok(volumeNames().includes('appdata'), 'named volumes stay without --all');
  ok(d.docker(['volume', 'prune', '-f', '--all']));
  assert.ok(!volumeNames().includes('appdata'));
  const df = JSON.parse(ok(d.docker(['system', 'df', '--format', '{{json .}}'])).split('\n').find((l) => l.includes('"Local Volumes"')) ?? '{}');
  assert.equal(df.Type, 'Local Volumes');
});

test('refused: -v over / or /proc, a relative destination, a duplicate mount point; nothing half-made', () => {
  const before = volumeNames();
  fails(d.tug(['run', '--rm', '-v', `${d.dir}:/`, 'busybox', 'true']), /destination can't be '\/'/);
  fails(d.tug(['run', '--rm', '-v', `${d.dir}:/proc`, 'busybox', 'true']), /mount over \/proc is not allowed/);
  fails(d.tug(['run', '--rm', '-v', `${d.dir}:/proc/sys`, 'busybox', 'true']), /mount over \/proc\/sys is not allowed/);
  fails(d.docker(['run', '--rm', '-v', 'newvol1:/a', '-v', 'newvol2:/a', 'busybox', 'true']), /Duplicate mount point: \/a/);
  fails(d.docker(['run', '--rm', '--mount', 'type=volume,source=newvol3,target=/p', '-v', `${d.dir}:/proc`, 'busybox', 'true']), /\/proc/);
  assert.deepEqual(volumeNames(), before, 'no volume was left by a refused create');
});
