// `tug volume …` and the volume/mount flags of run/create: flag → API body mapping (--mount, -v, --volumes-from,
// --volume-driver), docker's CSV reading and messages, and the commands' output against a small fake daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCreateRequest, csvRecord, parseMount, parseVolumeSpec, ramInBytes, volumeFlags } from '../../src/cli/runopts.ts';
import { buildVolumeCreate, volumeFormat, volumeRow } from '../../src/cli/volume.ts';
import { FlagError, UsageError } from '../../src/cli/errors.ts';
import type { Volume } from '../../src/client/types.ts';
import { runTug } from './cli-fakedaemon.ts';

// ---- --mount ----

const mountFails = (value: string, why: string) => assert.throws(() => parseMount(value, '/cwd'),
  (e: unknown) => e instanceof FlagError && e.message === `invalid argument ${JSON.stringify(value)} for "--mount" flag: ${why}`, value);

test('--mount: bind, volume and tmpfs mounts in the shape docker\'s CLI sends', () => {
  assert.deepEqual(parseMount('type=bind,source=/srv/data,target=/data,readonly,bind-propagation=rshared'),
    { Type: 'bind', Source: '/srv/data', Target: '/data', ReadOnly: true, BindOptions: { Propagation: 'rshared' } });
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,ro=false'), { Type: 'bind', Source: '/a', Target: '/b' });
  assert.deepEqual(parseMount('type=bind,src=/a,destination=/b,ro=1'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true });
  assert.deepEqual(parseMount('src=cache,dst=/cache'), { Type: 'volume', Source: 'cache', Target: '/cache' }, 'type defaults to volume');
  assert.deepEqual(parseMount('target=/anon'), { Type: 'volume', Target: '/anon' }, 'an anonymous volume');
  assert.deepEqual(
    parseMount('type=volume,src=v1,dst=/d,volume-nocopy,volume-label=a=b,volume-label=c,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m'),
    {
      Type: 'volume', Source: 'v1', Target: '/d',
      VolumeOptions: { NoCopy: true, Labels: { a: 'b', c: '' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } } },
    });
  assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770'),
    { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
  assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=1.5g,tmpfs-mode=700'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1.5 * 1024 ** 3, Mode: 0o700 } });
  assert.deepEqual(parseMount('TYPE=BIND,Src=/a,DST=/b'), { Type: 'bind', Source: '/a', Target: '/b' }, 'keys and type are case-insensitive');
  // an option seen with its empty value still sends its (empty) options object, as Go's non-nil pointer does
  assert.deepEqual(parseMount('src=v,dst=/d,volume-nocopy=false'), { Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: {} });
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,bind-create-src'), { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { CreateMountpoint: true } });
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,bind-recursive=disabled'), { Type: 'bind', Source: '/a', Target: '/b', BindOptions: { NonRecursive: true } });
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,ro,bind-recursive=readonly,bind-propagation=rprivate'),
    { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rprivate', ReadOnlyForceRecursive: true } });
});

test('--mount: a source starting with "." is made absolute against the working directory', () => {
  assert.equal(parseMount('type=bind,src=./data,dst=/d', '/home/u/proj').Source, '/home/u/proj/data');
  assert.equal(parseMount('type=bind,source=../up,dst=/d', '/home/u/proj').Source, '/home/u/up');
  assert.equal(parseMount('type=bind,src=.,dst=/d', '/home/u/proj').Source, '/home/u/proj');
  assert.equal(parseMount('type=bind,src=~/x,dst=/d', '/home/u/proj').Source, '~/x', 'only "." paths are converted');
});

test('--mount: CSV quoting as Go\'s encoding/csv reads it', () => {
  assert.deepEqual(parseMount('type=bind,"src=/a,b",dst=/c'), { Type: 'bind', Source: '/a,b', Target: '/c' });
  assert.deepEqual(parseMount('type=bind,"src=/say ""hi""",dst=/c'), { Type: 'bind', Source: '/say "hi"', Target: '/c' });
  assert.deepEqual(parseMount('"type=volume","volume-opt=o=a,b",dst=/c'), { Type: 'volume', Target: '/c', VolumeOptions: { DriverConfig: { Options: { o: 'a,b' } } } });
  assert.deepEqual(csvRecord('a,"b""c",d'), ['a', 'b"c', 'd']);
  assert.deepEqual(csvRecord('a,,b,'), ['a', '', 'b', '']);
  assert.deepEqual(csvRecord('"a\nb",c\nd,e'), ['a\nb', 'c'], 'a quoted field spans lines; only the first record is read');
  mountFails('type=bind,src=/a"b,dst=/c', 'parse error on line 1, column 17: bare " in non-quoted-field');
  mountFails('"type=bind"x,dst=/c', 'parse error on line 1, column 11: extraneous or missing " in quoted-field');
  mountFails('"type=bind', 'parse error on line 1, column 11: extraneous or missing " in quoted-field');
});

test('--mount: docker\'s errors', () => {
  mountFails('', 'value is empty');
  mountFails('  ', 'value is empty');
  mountFails('type=bind,src=/a,dst=/b,bind-nonrecursive', 'bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
  mountFails('type=bind,src=/a,dst=/b,bind-recursive=maybe', 'invalid value for bind-recursive: maybe (must be "enabled", "disabled", "writable", or "readonly")');
  mountFails('type=bind,src=/a,dst=/b,bind-recursive=writable', "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  mountFails('type=bind,src=/a,dst=/b,ro,bind-recursive=readonly', "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  mountFails('type=volume,dst=/b,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'");
  mountFails('type=bind,src=/a,dst=/b,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'");
  mountFails('type=volume,dst=/b,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'");
  mountFails('type=tmpfs,dst=/t,tmpfs-size=64x', 'invalid value for tmpfs-size: 64x');
  mountFails('type=tmpfs,dst=/t,tmpfs-mode=0789', 'invalid value for tmpfs-mode: 0789');
  mountFails('type=bind,src=/a,dst=/b,ro=yes', 'invalid value for \'ro\': invalid boolean value ("yes"): must be one of "true", "1", "false", or "0" (default "true")');
  mountFails('dst=/b,foo=bar', "unknown option 'foo' in 'foo=bar'");
  mountFails('dst=/b,nokey', "invalid field 'nokey' must be a key=value pair");
  mountFails('type=bind,src=/a,dst=/b,', "invalid field '' must be a key=value pair");
  mountFails('dst=', "invalid value for 'dst': value is empty");
  mountFails('Dst= /b', "invalid value for 'Dst' in 'Dst= /b': value should not have whitespace");
  mountFails('type=bind, src=/a', "invalid option 'src' in ' src=/a': option should not have whitespace");
});

test('tmpfs sizes as go-units RAMInBytes reads them', () => {
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('64m'), 64 * 1024 ** 2);
  assert.equal(ramInBytes('512KiB'), 512 * 1024);
  assert.equal(ramInBytes('1 GB'), 1024 ** 3);
  assert.equal(ramInBytes('10b'), 10);
  assert.throws(() => ramInBytes('x'), /invalid size: 'x'/);
  assert.throws(() => ramInBytes('12q'), /invalid suffix: 'q'/);
  assert.throws(() => ramInBytes('-5'), /invalid size/);
});

// ---- -v / --volume ----

test('-v: docker\'s volumespec parsing', () => {
  assert.deepEqual(parseVolumeSpec('/data'), { source: '', target: '/data', type: 'volume' });
  assert.deepEqual(parseVolumeSpec('cache:/data'), { source: 'cache', target: '/data', type: 'volume' });
  assert.deepEqual(parseVolumeSpec('/srv:/data:ro'), { source: '/srv', target: '/data', type: 'bind' });
  assert.deepEqual(parseVolumeSpec('./x:/y'), { source: './x', target: '/y', type: 'bind' });
  assert.deepEqual(parseVolumeSpec('~/x:/y'), { source: '~/x', target: '/y', type: 'bind' });
  assert.deepEqual(parseVolumeSpec('ab'), { source: '', target: 'ab', type: 'volume' });
  const bad = (spec: string, msg: string) => assert.throws(() => parseVolumeSpec(spec), (e: unknown) => e instanceof UsageError && !(e instanceof FlagError) && e.message === msg, spec);
  bad('', 'invalid empty volume spec');
  bad('/a::/b', 'invalid spec: /a::/b: empty section between colons');
  bad(':/x', 'invalid spec: :/x: empty section between colons');
  bad('/a:/b:', 'invalid spec: /a:/b:: empty section between colons');
  bad('/a:/b:ro:z', 'invalid spec: /a:/b:ro:z: too many colons');
});

test('-v: binds (host paths and named volumes) vs anonymous volumes; relative host paths made absolute', () => {
  assert.deepEqual(volumeFlags(['./x:/y', '../z:/w:ro', 'named:/n', '/anon', '/anon', '.hidden:/h', '/abs:/abs:rw,rshared'], '/home/u/p'), {
    binds: ['/home/u/p/x:/y', '/home/u/z:/w:ro', 'named:/n', '/home/u/p/.hidden:/h', '/abs:/abs:rw,rshared'],
    volumes: ['/anon'],
  });
  const b = buildCreateRequest('i', [], { volume: ['data:/var/lib/data', '/srv:/srv:ro', '/scratch', './conf:/etc/app'] }, {}, '/work').body;
  assert.deepEqual(b.HostConfig.Binds, ['data:/var/lib/data', '/srv:/srv:ro', '/work/conf:/etc/app']);
  assert.deepEqual(b.Volumes, { '/scratch': {} });
  const none = buildCreateRequest('i', [], { volume: ['/only-anon'] }).body;
  assert.equal(none.HostConfig.Binds, undefined, 'no Binds when every -v is anonymous');
  assert.throws(() => buildCreateRequest('i', [], { volume: ['/a::/b'] }), /invalid spec: \/a::\/b: empty section between colons/);
});

test('--mount, --volumes-from and --volume-driver in the create body', () => {
  const b = buildCreateRequest('i', [], {
    mount: ['type=bind,src=./site,dst=/usr/share/nginx/html,ro', 'type=tmpfs,dst=/run,tmpfs-size=16m', 'src=logs,dst=/logs'],
    volumesFrom: ['data-ctr', 'other:ro'], volumeDriver: 'local', tmpfs: ['/tmp:rw,size=1g'],
  }, {}, '/srv/www').body;
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'bind', Source: '/srv/www/site', Target: '/usr/share/nginx/html', ReadOnly: true },
    { Type: 'tmpfs', Target: '/run', TmpfsOptions: { SizeBytes: 16 * 1024 ** 2 } },
    { Type: 'volume', Source: 'logs', Target: '/logs' },
  ]);
  assert.deepEqual(b.HostConfig.VolumesFrom, ['data-ctr', 'other:ro']);
  assert.equal(b.HostConfig.VolumeDriver, 'local');
  assert.deepEqual(b.HostConfig.Tmpfs, { '/tmp': 'rw,size=1g' });
  const plain = buildCreateRequest('i', [], {}).body.HostConfig;
  assert.deepEqual([plain.Mounts, plain.VolumesFrom, plain.VolumeDriver, plain.Binds], [undefined, undefined, undefined, undefined]);
});

// ---- volume create body, ls rows ----

test('volume create body: empty fields left out, as docker\'s client sends it', () => {
  assert.deepEqual(buildVolumeCreate(undefined, {}), { Driver: 'local' });
  assert.deepEqual(buildVolumeCreate('v1', { driver: 'local', label: ['a=b', 'c'], opt: ['type=tmpfs', 'device=tmpfs', 'o=size=100m,uid=1000'] }), {
    Name: 'v1', Driver: 'local', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000' }, Labels: { a: 'b', c: '' },
  });
  assert.deepEqual(buildVolumeCreate(undefined, { name: 'hidden' }), { Name: 'hidden', Driver: 'local' });
  assert.throws(() => buildVolumeCreate('a', { name: 'b' }), /conflicting options: cannot specify a volume-name through both --name and as a positional arg/);
  assert.throws(() => buildVolumeCreate('a', { label: ['=x'] }), (e: unknown) => e instanceof FlagError && /invalid label '=x': empty name/.test(e.message));
});

test('volume ls rows and formats', () => {
  const v: Volume = { Name: 'v', Driver: 'local', Mountpoint: '/var/lib/tugboat/volumes/v/_data', Labels: { z: '1', a: '2' }, Scope: 'local', Options: null };
  const r = volumeRow(v);
  assert.deepEqual([r.Name, r.Driver, r.Scope, r.Mountpoint, r.Labels, r.Links, r.Size, r.Group], ['v', 'local', 'local', v.Mountpoint, 'a=2,z=1', 'N/A', 'N/A', 'N/A']);
  assert.equal((r.Label as (k: string) => string)('z'), '1');
  const u = volumeRow({ ...v, Labels: null, UsageData: { Size: 1234567, RefCount: 2 } });
  assert.deepEqual([u.Labels, u.Links, u.Size], ['', '2', '1.235MB']);
  assert.deepEqual(volumeFormat(undefined, true), { kind: 'raw', template: '{{.Name}}' });
  assert.deepEqual(volumeFormat('table', false), { kind: 'table', template: '{{.Driver}}\t{{.Name}}' });
  assert.deepEqual(volumeFormat('{{.Mountpoint}}', true), { kind: 'raw', template: '{{.Mountpoint}}' }, '-q leaves a given --format alone');
});

// ---- the commands against a fake daemon ----

interface Req { method: string; path: string; query: URLSearchParams; body: string }

let server: http.Server;
let dir: string;
let host: string;
const reqs: Req[] = [];
const vols: Volume[] = [];
let pruneReport: { VolumesDeleted: string[] | null; SpaceReclaimed: number } = { VolumesDeleted: ['anon1', 'anon2'], SpaceReclaimed: 1234567 };

const mkVol = (name: string, labels: Record<string, string> | null = null): Volume => ({
  CreatedAt: '2024-05-01T10:11:12Z', Driver: 'local', Labels: labels, Mountpoint: `/var/lib/tugboat/volumes/${name}/_data`, Name: name, Options: null, Scope: 'local',
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tug-vol-'));
  const sock = join(dir, 'd.sock');
  host = `unix://${sock}`;
  vols.push(mkVol('vol10'), mkVol('vol9', { env: 'dev' }), mkVol('inuse'));
  const send = (res: http.ServerResponse, status: number, v?: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.44' });
    res.end(v === undefined ? '' : JSON.stringify(v));
  };
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const path = u.pathname.replace(/^\/v\d+\.\d+/, '');
      reqs.push({ method: req.method ?? '', path, query: u.searchParams, body });
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && path === '/volumes') return send(res, 200, { Volumes: vols, Warnings: null });
      if (req.method === 'POST' && path === '/volumes/create') {
        const b = JSON.parse(body) as { Name?: string; Driver?: string; Labels?: Record<string, string> };
        if (b.Driver && b.Driver !== 'local') return send(res, 404, { message: `error looking up volume plugin ${b.Driver}: plugin "${b.Driver}" not found` });
        const name = b.Name ?? 'f'.repeat(64);
        const existing = vols.find((v) => v.Name === name);
        if (existing) return send(res, 201, existing);
        const v = mkVol(name, b.Labels ?? {});
        vols.push(v);
        return send(res, 201, v);
      }
      if (req.method === 'POST' && path === '/volumes/prune') return send(res, 200, pruneReport);
      if ((m = /^\/volumes\/([^/]+)$/.exec(path))) {
        const name = decodeURIComponent(m[1]);
        const v = vols.find((x) => x.Name === name);
        if (req.method === 'GET') return v ? send(res, 200, v) : send(res, 404, { message: `get ${name}: no such volume` });
        if (req.method === 'DELETE') {
          if (!v) return u.searchParams.get('force') === '1' ? send(res, 204) : send(res, 404, { message: `get ${name}: no such volume` });
          if (v.Name === 'inuse') return send(res, 409, { message: `remove inuse: volume is in use - [${'a'.repeat(64)}]` });
          vols.splice(vols.indexOf(v), 1);
          return send(res, 204);
        }
      }
      if (req.method === 'POST' && path === '/containers/create') return send(res, 201, { Id: 'e'.repeat(64), Warnings: [] });
      send(res, 404, { message: 'page not found' });
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

after(async () => {
  await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections?.(); });
  rmSync(dir, { recursive: true, force: true });
});

const tug = (args: string[], opts: { stdin?: string; cwd?: string } = {}) => runTug(host, args, opts);

const last = (method: string, path: string) => [...reqs].reverse().find((r) => r.method === method && r.path === path)!;

test('tug volume create prints the name and sends docker\'s body', async () => {
  let r = await tug(['volume', 'create', '--label', 'env=test', '-o', 'type=tmpfs', '--opt', 'device=tmpfs', 'data1']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'data1\n');
  assert.deepEqual(JSON.parse(last('POST', '/volumes/create').body), { Name: 'data1', Driver: 'local', DriverOpts: { type: 'tmpfs', device: 'tmpfs' }, Labels: { env: 'test' } });
  r = await tug(['volume', 'create']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${'f'.repeat(64)}\n`, 'the daemon names an unnamed volume');
  assert.deepEqual(JSON.parse(last('POST', '/volumes/create').body), { Driver: 'local' });
  r = await tug(['volume', 'create', '-d', 'nfs', 'x']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: error looking up volume plugin nfs: plugin "nfs" not found\n');
  r = await tug(['volume', 'create', '--label', '=v', 'x']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^invalid argument "=v" for "--label" flag: invalid label '=v': empty name\n/);
});

test('tug volume ls: docker\'s columns in natural order; -q, --format, filters', async () => {
  let r = await tug(['volume', 'ls']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'DRIVER    VOLUME NAME');
  assert.deepEqual(lines.slice(1), ['local     data1', `local     ${'f'.repeat(64)}`, 'local     inuse', 'local     vol9', 'local     vol10']);
  r = await tug(['volume', 'ls', '-q', '-f', 'dangling=true', '--filter', 'label=env', '-f', 'name=vol', '-f', 'driver=local']);
  assert.equal(r.stdout, `data1\n${'f'.repeat(64)}\ninuse\nvol9\nvol10\n`);
  assert.deepEqual(JSON.parse(last('GET', '/volumes').query.get('filters')!), { dangling: ['true'], label: ['env'], name: ['vol'], driver: ['local'] });
  r = await tug(['volume', 'list', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Mountpoint}}']);
  assert.match(r.stdout, /\nvol9 local local env=dev \/var\/lib\/tugboat\/volumes\/vol9\/_data\n/);
  r = await tug(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Label "env"}}']);
  assert.match(r.stdout, /^VOLUME NAME +LABEL\n/);
  assert.match(r.stdout, /\nvol9 +dev\n/);
  r = await tug(['volume', 'ls', '--format', 'json']);
  const first = JSON.parse(r.stdout.split('\n')[0]) as Record<string, string>;
  assert.deepEqual(Object.keys(first), ['Availability', 'Driver', 'Group', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size', 'Status']);
  r = await tug(['volume', 'ls', '-f', 'bogus']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /bad format of filter \(expected name=value\)/);
});

test('tug volume inspect: a JSON array, templates, missing volumes exit 1', async () => {
  let r = await tug(['volume', 'inspect', 'vol9', 'data1']);
  assert.equal(r.code, 0);
  assert.deepEqual((JSON.parse(r.stdout) as Volume[]).map((v) => v.Name), ['vol9', 'data1']);
  assert.match(r.stdout, /^\[\n {4}\{\n {8}"CreatedAt": "2024-05-01T10:11:12Z",/);
  r = await tug(['volume', 'inspect', '-f', '{{.Name}}: {{.Mountpoint}}', 'vol9']);
  assert.equal(r.stdout, 'vol9: /var/lib/tugboat/volumes/vol9/_data\n');
  r = await tug(['volume', 'inspect', 'vol9', 'ghost']);
  assert.equal(r.code, 1);
  assert.equal((JSON.parse(r.stdout) as Volume[]).length, 1);
  assert.equal(r.stderr, 'Error response from daemon: get ghost: no such volume\n');
  r = await tug(['volume', 'inspect', 'ghost']);
  assert.equal(r.stdout, '[]\n');
  assert.equal(r.code, 1);
});

test('tug volume rm: names printed, docker\'s error lines, exit 1 on failures; -f sends force', async () => {
  let r = await tug(['volume', 'rm', 'vol9', 'ghost', 'inuse', 'vol10']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'vol9\nvol10\n');
  assert.equal(r.stderr, `Error response from daemon: get ghost: no such volume\nError response from daemon: remove inuse: volume is in use - [${'a'.repeat(64)}]\n`);
  r = await tug(['volume', 'remove', '-f', 'ghost']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'ghost\n');
  assert.equal(last('DELETE', '/volumes/ghost').query.get('force'), '1');
  r = await tug(['volume', 'rm', ' ']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'invalid volume name or ID: value is empty\n');
  r = await tug(['volume', 'rm']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^tug: 'tug volume rm' requires at least 1 argument/);
});

test('tug volume prune: docker\'s prompts, the deleted names and the space reclaimed', async () => {
  const n = reqs.length;
  let r = await tug(['volume', 'prune'], { stdin: 'n\n' });
  assert.equal(r.stdout, 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
  assert.equal(r.code, 0);
  assert.ok(!reqs.slice(n).some((q) => q.path === '/volumes/prune'), 'nothing pruned without a yes');
  r = await tug(['volume', 'prune'], { stdin: 'y\n' });
  assert.equal(r.stdout, 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '
    + 'Deleted Volumes:\nanon1\nanon2\n\nTotal reclaimed space: 1.235MB\n');
  assert.equal(last('POST', '/volumes/prune').query.get('filters'), null);
  r = await tug(['volume', 'prune', '-a'], { stdin: 'y\n' });
  assert.match(r.stdout, /^WARNING! This will remove all local volumes not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] Deleted Volumes:/);
  assert.deepEqual(JSON.parse(last('POST', '/volumes/prune').query.get('filters')!), { all: ['true'] });
  r = await tug(['volume', 'prune', '-f', '--filter', 'label=keep!=yes', '--filter', 'label=tmp']);
  assert.equal(r.stdout, 'Deleted Volumes:\nanon1\nanon2\n\nTotal reclaimed space: 1.235MB\n');
  assert.deepEqual(JSON.parse(last('POST', '/volumes/prune').query.get('filters')!), { label: ['keep!=yes', 'tmp'] });
  r = await tug(['volume', 'prune', '-a', '-f', '--filter', 'all=1']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'conflicting options: cannot specify both --all and --filter all=1\n');
  pruneReport = { VolumesDeleted: null, SpaceReclaimed: 0 };
  r = await tug(['volume', 'prune', '-f']);
  assert.equal(r.stdout, 'Total reclaimed space: 0B\n');
});

test('tug create: --mount, -v, --volumes-from and --volume-driver reach the create body; bad values exit 125', async () => {
  const cwd = realpathSync(dir);
  let r = await tug(['create', '-v', './conf:/etc/app:ro', '-v', 'cache:/cache', '-v', '/anon', '--mount', 'type=bind,src=.,dst=/src',
    '--mount', 'type=tmpfs,dst=/scratch,tmpfs-size=64m,tmpfs-mode=1777', '--volumes-from', 'base:ro', '--volume-driver', 'local', 'busybox'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(last('POST', '/containers/create').body) as { HostConfig: Record<string, unknown>; Volumes?: Record<string, unknown> };
  assert.deepEqual(b.HostConfig.Binds, [`${cwd}/conf:/etc/app:ro`, 'cache:/cache']);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'bind', Source: cwd, Target: '/src' },
    { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } },
  ]);
  assert.deepEqual(b.HostConfig.VolumesFrom, ['base:ro']);
  assert.equal(b.HostConfig.VolumeDriver, 'local');
  r = await tug(['run', '--mount', 'type=bind,src=/a,dst=/b,bogus=1', 'busybox']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^invalid argument "type=bind,src=\/a,dst=\/b,bogus=1" for "--mount" flag: unknown option 'bogus' in 'bogus=1'\n\nUsage: {2}tug run/);
  r = await tug(['run', '-v', '/a::/b', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "tug: invalid spec: /a::/b: empty section between colons\n\nRun 'tug run --help' for more information\n");
});
