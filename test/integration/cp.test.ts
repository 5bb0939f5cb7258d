// docker cp through tugd: both directions with tug and the docker CLI, files and directories, stopped and
// running containers, volumes and read-only mounts, tar on stdin/stdout, -a, and a hostile container: symlinks
// to / and to host paths, a symlink swapped in a loop during repeated copies, archives with ".." entries.
// Whatever it tries, nothing outside the container is read or written (a sentinel on the host stays as it was).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, REPO, TestDaemon } from '../helpers/daemon.ts';
import { makeTar } from '../unit/_tar.ts';

const d = new TestDaemon();
/** What an escape would reach: a host directory the containers know the path of. */
let sentinel = '';
const SECRET = `HOST-SECRET-${randomBytes(8).toString('hex')}`;
const unique = `tugcp-${process.pid}-${randomBytes(4).toString('hex')}`;

before(async () => {
  await d.start();
  await d.makeImages();
  sentinel = join(d.dir, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'secret'), SECRET);
});
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const fails = (r: { code: number; stdout: string; stderr: string }, re: RegExp) => { assert.notEqual(r.code, 0, r.stdout); assert.match(r.stderr, re); };
const q = (path: string) => encodeURIComponent(path);
/** tug's stdout as bytes (a tar). */
const tugBytes = (args: string[]) => execFileSync(process.execPath, [join(REPO, 'dist/tug.js'), '-H', d.host, ...args]);

/** The host sentinel is as it was and nothing with our marker appeared in the host's / or /tmp. */
function hostUntouched(): void {
  assert.deepEqual(readdirSync(sentinel), ['secret']);
  assert.equal(readFileSync(join(sentinel, 'secret'), 'utf8'), SECRET);
  for (const dir of ['/', '/tmp', d.dir]) assert.ok(!readdirSync(dir).some((n) => n.includes(unique)), `nothing new in ${dir}`);
}

/** Files of a local tree: relative path → content (dirs as '/', links as '-> target'). */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(join(dir, rel)).sort()) {
    const p = join(rel, n);
    const st = statSync(join(dir, p), { throwIfNoEntry: false });
    if (execFileSync('stat', ['-c', '%F', join(dir, p)]).toString().startsWith('symbolic')) out[p] = `-> ${execFileSync('readlink', [join(dir, p)]).toString().trim()}`;
    else if (st?.isDirectory()) { out[`${p}/`] = '/'; Object.assign(out, tree(dir, p)); } else out[p] = readFileSync(join(dir, p), 'utf8');
  }
  return out;
}

function localSource(name: string): string {
  const src = join(d.dir, name);
  mkdirSync(join(src, 'sub/deeper'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'alpha\n');
  writeFileSync(join(src, 'sub/b.txt'), 'beta\n');
  writeFileSync(join(src, 'sub/deeper/c.txt'), 'gamma\n');
  symlinkSync('a.txt', join(src, 'link'));
  return src;
}

const EXPECTED = { 'a.txt': 'alpha\n', 'link': '-> a.txt', 'sub/': '/', 'sub/b.txt': 'beta\n', 'sub/deeper/': '/', 'sub/deeper/c.txt': 'gamma\n' };

test('files and directories both ways with a stopped container, with docker\'s naming rules', () => {
  const src = localSource('src1');
  const id = ok(d.tug(['create', '--name', 'stopped', 'busybox'])).trim();
  ok(d.tug(['cp', src, 'stopped:/tmp/']));                  // into an existing directory: /tmp/src1
  ok(d.tug(['cp', src, 'stopped:/tmp/renamed']));           // a new directory with the source's content
  ok(d.tug(['cp', `${src}/.`, 'stopped:/opt']));            // "/." copies the content only
  ok(d.tug(['cp', join(src, 'a.txt'), 'stopped:/tmp/single']));
  const out = join(d.dir, 'out1');
  mkdirSync(out);
  ok(d.tug(['cp', 'stopped:/tmp/src1', out]));
  assert.deepEqual(tree(join(out, 'src1')), EXPECTED);
  ok(d.tug(['cp', 'stopped:/tmp/renamed', join(out, 'again')]));
  assert.deepEqual(tree(join(out, 'again')), EXPECTED);
  ok(d.tug(['cp', 'stopped:/opt/.', join(out, 'content')]));
  assert.deepEqual(tree(join(out, 'content')), EXPECTED);
  ok(d.tug(['cp', 'stopped:/tmp/single', join(out, 'file.txt')]));
  assert.equal(readFileSync(join(out, 'file.txt'), 'utf8'), 'alpha\n');
  // a link is copied as a link, -L copies what it points to under the link's name
  ok(d.tug(['cp', 'stopped:/tmp/src1/link', out]));
  assert.equal(execFileSync('readlink', [join(out, 'link')]).toString().trim(), 'a.txt');
  ok(d.tug(['cp', '-L', 'stopped:/tmp/src1/link', join(out, 'followed')]));
  assert.equal(readFileSync(join(out, 'followed'), 'utf8'), 'alpha\n');
  // docker's refusals
  fails(d.tug(['cp', 'stopped:/tmp/src1', join(out, 'file.txt')]), /^cannot copy directory$/m);
  fails(d.tug(['cp', join(src, 'a.txt'), 'stopped:/tmp/nodir/']), /^no such directory$/m);
  fails(d.tug(['cp', 'stopped:/nope', out]), /Error response from daemon: Could not find the file \/nope in container stopped/);
  fails(d.tug(['cp', 'stopped:/tmp/single/', out]), /not a directory/);
  fails(d.tug(['cp', join(src, 'a.txt'), 'stopped:/missing/x']), /Could not find the file \/missing in container stopped/);
  fails(d.tug(['cp', 'a', 'b']), /must specify at least one container source/);
  fails(d.tug(['cp', 'stopped:/a', 'stopped:/b']), /copying between containers is not supported/);
  fails(d.tug(['cp', 'stopped:/tmp', join(d.dir, 'no/such/parent/x')]), /invalid output path: directory ".*no\/such\/parent" does not exist/);
  // the overlay was mounted for each copy only
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(`containers/${id}/rootfs`));
  assert.equal(ok(d.tug(['start', '-a', 'stopped'])), '');
});

test('tar on stdin and stdout; the summary line; the API\'s stat header', async () => {
  ok(d.tug(['create', '--name', 'streams', 'busybox']));
  const tar = await makeTar([{ name: 'in/', type: 'directory' }, { name: 'in/x', body: 'from stdin' }]);
  ok(d.tug(['cp', '-', 'streams:/tmp'], tar));
  const listing = execFileSync('tar', ['tvf', '-'], { input: tugBytes(['cp', 'streams:/tmp/in', '-']) }).toString();
  assert.match(listing, / in\/$/m);
  assert.match(listing, / in\/x$/m);
  fails(d.tug(['cp', '-', 'streams:/tmp/in/x'], tar), /destination "streams:\/tmp\/in\/x" must be a directory/);
  const r = d.tug(['cp', '--quiet=false', 'streams:/tmp/in/x', join(d.dir, 'x-out')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^Successfully copied 2.05kB to ${join(d.dir, 'x-out')}\n$`));
  assert.equal(d.tug(['cp', 'streams:/tmp/in/x', join(d.dir, 'x-out2')]).stderr, '', 'quiet when not on a terminal');
  const head = await d.req('HEAD', `/containers/streams/archive?path=${q('/tmp/in/')}`);
  assert.equal(head.status, 200);
  const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.equal(stat.name, 'in');
  assert.equal(stat.mode, 2 ** 31 + 0o755);
  assert.match(stat.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal((await d.req('HEAD', `/containers/streams/archive?path=${q('/nope')}`)).status, 404);
  assert.equal((await d.req('GET', '/containers/streams/archive')).json<{ message: string }>().message, 'bad parameter: path cannot be empty');
});

test('a running container: its layer, its volumes, and read-only mounts refused', () => {
  const bind = join(d.dir, 'bind-ro');
  mkdirSync(bind);
  writeFileSync(join(bind, 'ro.txt'), 'read only\n');
  ok(d.tug(['run', '-d', '--name', 'live', '-v', 'cpvol:/data', '-v', `${bind}:/ro:ro`, 'busybox', 'sh', '-c', 'echo made inside > /made; echo in volume > /data/v; ln -s /data /dlink; sleep 1000']));
  for (let i = 0; i < 50 && !ok(d.tug(['exec', 'live', 'ls', '/'])).includes('dlink'); i++) execFileSync('sleep', ['0.1']);
  const out = join(d.dir, 'out-live');
  mkdirSync(out);
  ok(d.tug(['cp', 'live:/made', out]));
  assert.equal(readFileSync(join(out, 'made'), 'utf8'), 'made inside\n');
  ok(d.tug(['cp', 'live:/dlink/v', join(out, 'v')]));
  assert.equal(readFileSync(join(out, 'v'), 'utf8'), 'in volume\n');
  ok(d.tug(['cp', 'live:/ro/ro.txt', out]));
  assert.equal(readFileSync(join(out, 'ro.txt'), 'utf8'), 'read only\n');
  const src = localSource('src-live');
  ok(d.tug(['cp', src, 'live:/data/']));
  assert.equal(ok(d.tug(['exec', 'live', 'cat', '/data/src-live/sub/deeper/c.txt'])), 'gamma\n');
  ok(d.tug(['cp', join(src, 'a.txt'), 'live:/root/']));
  assert.equal(ok(d.tug(['exec', 'live', 'cat', '/root/a.txt'])), 'alpha\n');
  fails(d.tug(['cp', join(src, 'a.txt'), 'live:/ro/']), /mounted volume is marked read-only/);
  assert.deepEqual(readdirSync(bind), ['ro.txt']);
  // the engine's /etc files are the container's own
  ok(d.tug(['cp', 'live:/etc/hostname', out]));
  assert.equal(readFileSync(join(out, 'hostname'), 'utf8').trim(), ok(d.tug(['exec', 'live', 'hostname'])).trim());
  // and once stopped, the same paths still work through the volume's source
  ok(d.tug(['stop', '-t', '0', 'live']));
  ok(d.tug(['cp', 'live:/data/src-live/a.txt', join(out, 'after-stop')]));
  assert.equal(readFileSync(join(out, 'after-stop'), 'utf8'), 'alpha\n');
  fails(d.tug(['cp', join(src, 'a.txt'), 'live:/ro/']), /mounted volume is marked read-only/);
  ok(d.tug(['rm', '-f', 'live']));
});

test('-a: ownership kept both ways; without it files copied in are root\'s', () => {
  const f = join(d.dir, 'owned.txt');
  writeFileSync(f, 'owned\n');
  chownSync(f, 1234, 5678);
  ok(d.tug(['run', '-d', '--name', 'owners', 'busybox', 'sh', '-c', 'echo mine > /theirs; chown 4321:8765 /theirs; sleep 1000']));
  ok(d.tug(['cp', f, 'owners:/plain']));
  ok(d.tug(['cp', '-a', f, 'owners:/kept']));
  assert.equal(ok(d.tug(['exec', 'owners', 'stat', '-c', '%u:%g', '/plain', '/kept'])), '0:0\n1234:5678\n');
  for (let i = 0; i < 50 && d.tug(['exec', 'owners', 'stat', '/theirs']).code !== 0; i++) execFileSync('sleep', ['0.1']);
  const out = join(d.dir, 'out-owners');
  mkdirSync(out);
  ok(d.tug(['cp', 'owners:/theirs', join(out, 'plain')]));
  ok(d.tug(['cp', '-a', 'owners:/theirs', join(out, 'kept')]));
  assert.equal(`${statSync(join(out, 'plain')).uid}`, `${process.getuid?.()}`);
  assert.equal(`${statSync(join(out, 'kept')).uid}:${statSync(join(out, 'kept')).gid}`, '4321:8765');
  ok(d.tug(['rm', '-f', 'owners']));
  // with a user of its own, -a gives what is copied in to that user (from the container's passwd), as docker does
  ok(d.tug(['create', '--name', 'nobodys', '-u', 'nobody', 'busybox']));
  ok(d.tug(['cp', '-a', f, 'nobodys:/tmp/mine']));
  const listing = execFileSync('tar', ['tvf', '-', '--numeric-owner'], { input: tugBytes(['cp', 'nobodys:/tmp/mine', '-']) }).toString();
  assert.match(listing, / 65534\/65534 /);
  // a read-only root filesystem takes nothing
  ok(d.tug(['create', '--name', 'readonly', '--read-only', 'busybox']));
  fails(d.tug(['cp', f, 'readonly:/tmp/']), /container rootfs is marked read-only/);
});

test('the docker CLI copies both ways through tugd', () => {
  const src = localSource('src-docker');
  ok(d.docker(['create', '--name', 'dockercp', 'busybox']));
  ok(d.docker(['cp', src, 'dockercp:/srv']));
  ok(d.docker(['cp', join(src, 'a.txt'), 'dockercp:/srv/renamed.txt']));
  const out = join(d.dir, 'out-docker');
  mkdirSync(out);
  ok(d.docker(['cp', 'dockercp:/srv', join(out, 'srv')]));
  assert.deepEqual(tree(join(out, 'srv')), { ...EXPECTED, 'renamed.txt': 'alpha\n' });
  ok(d.docker(['cp', '-L', 'dockercp:/srv/link', join(out, 'viaL')]));
  assert.equal(readFileSync(join(out, 'viaL'), 'utf8'), 'alpha\n');
  fails(d.docker(['cp', 'dockercp:/nope', out]), /Could not find the file \/nope in container dockercp/);
  // docker cp with - on both sides
  const tar = execFileSync(DOCKER, ['cp', 'dockercp:/srv/sub', '-'], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') } });
  ok(d.docker(['cp', '-', 'dockercp:/tmp'], tar));
  ok(d.tug(['cp', 'dockercp:/tmp/sub/deeper/c.txt', join(out, 'c.txt')]));
  assert.equal(readFileSync(join(out, 'c.txt'), 'utf8'), 'gamma\n');
});

test('symlinks to / and to host paths resolve inside the container, as source and as destination', () => {
  const decoy = 'decoy in the container\n';
  ok(d.tug(['run', '-d', '--name', 'hostile', 'busybox', 'sh', '-c',
    `ln -s / /evil; ln -s ../../../../.. /up; ln -s ${sentinel} /hostdir; ln -s ${sentinel}/secret /hostfile; mkdir -p /tmp/x; ln -s /etc/passwd /tmp/x/pw; sleep 1000`]));
  for (let i = 0; i < 50 && d.tug(['exec', 'hostile', 'test', '-L', '/tmp/x/pw']).code !== 0; i++) execFileSync('sleep', ['0.1']);
  const out = join(d.dir, 'out-hostile');
  mkdirSync(out);
  const containerPasswd = ok(d.tug(['exec', 'hostile', 'cat', '/etc/passwd']));
  ok(d.tug(['cp', 'hostile:/evil/etc/passwd', join(out, 'p1')]));
  ok(d.tug(['cp', 'hostile:/up/up/etc/passwd', join(out, 'p2')]));
  ok(d.tug(['cp', '-L', 'hostile:/tmp/x/pw', join(out, 'p3')]));
  for (const p of ['p1', 'p2', 'p3']) assert.equal(readFileSync(join(out, p), 'utf8'), containerPasswd);
  // host paths named by links do not exist inside: refused, never read
  fails(d.tug(['cp', 'hostile:/hostdir/secret', join(out, 's1')]), /Could not find the file/);
  fails(d.tug(['cp', '-L', 'hostile:/hostfile', join(out, 's2')]), /Could not find the file/);
  ok(d.tug(['cp', 'hostile:/hostfile', join(out, 's3')]));
  assert.equal(execFileSync('readlink', [join(out, 's3')]).toString().trim(), `${sentinel}/secret`, 'the link itself, as data');
  // as destinations: the container's own directories
  mkdirSync(join(d.dir, 'payload'));
  const f = join(d.dir, 'payload', `${unique}-file`);
  writeFileSync(f, decoy);
  ok(d.tug(['cp', f, 'hostile:/evil/tmp/']));
  ok(d.tug(['cp', f, 'hostile:/up/']));
  assert.equal(ok(d.tug(['exec', 'hostile', 'cat', `/tmp/${unique}-file`, `/${unique}-file`])), decoy + decoy);
  fails(d.tug(['cp', f, 'hostile:/hostdir']), /Could not find the file/);
  fails(d.tug(['cp', f, 'hostile:/hostdir/']), /no such directory|Could not find the file/);
  fails(d.tug(['cp', f, 'hostile:/hostfile']), /Could not find the file/);
  // the docker CLI too
  fails(d.docker(['cp', f, 'hostile:/hostdir/secret']), /Could not find the file/);
  hostUntouched();
});

test('a symlink swapped in a loop during repeated copies never leads outside the container', async () => {
  // /race/d flips between a directory, a link to the host sentinel's path (a decoy of that path exists inside)
  // and a link to /; meanwhile we read /race/d/secret and write into /race/d as fast as we can
  const loop = `mkdir -p ${sentinel} /race; echo decoy > ${sentinel}/secret; echo root > /secret; ` +
    'while :; do rm -rf /race/d; mkdir /race/d; echo plain > /race/d/secret; rm -rf /race/d; ' +
    `ln -s ${sentinel} /race/d; rm -f /race/d; ln -s / /race/d; rm -f /race/d; done`;
  ok(d.tug(['run', '-d', '--name', 'racer', 'busybox', 'sh', '-c', loop]));
  const payload = await makeTar([{ name: `${unique}-pwned`, body: 'pwned' }]);
  const seen = new Map<string, number>();
  let writes = 0;
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    const [get, put] = await Promise.all([
      d.req('GET', `/containers/racer/archive?path=${q('/race/d/secret')}`),
      d.req('PUT', `/containers/racer/archive?path=${q('/race/d')}`, payload, { 'Content-Type': 'application/x-tar' }),
    ]);
    if (get.status === 200) {
      const text = execFileSync('tar', ['-xOf', '-'], { input: get.body }).toString().trim();
      seen.set(text, (seen.get(text) ?? 0) + 1);
    } else assert.ok([400, 404].includes(get.status), `GET ${get.status} ${get.body}`);
    if (put.status === 200) writes++;
    else assert.ok([400, 404].includes(put.status), `PUT ${put.status} ${put.body}`);
  }
  // '' is a file caught between its creation and its write
  for (const text of seen.keys()) assert.ok(['plain', 'decoy', 'root', ''].includes(text), `read ${JSON.stringify(text)}`);
  assert.ok(!seen.has(SECRET));
  assert.ok([...seen.values()].reduce((a, b) => a + b, 0) > 10, `reads: ${JSON.stringify([...seen])}`);
  assert.ok(writes > 10, `writes: ${writes}`);
  // the CLI under the same race
  for (let i = 0; i < 10; i++) {
    const r = d.tug(['cp', 'racer:/race/d/secret', '-']);
    if (r.code === 0) assert.ok(!r.stdout.includes(SECRET));
  }
  ok(d.tug(['rm', '-f', 'racer']));
  hostUntouched();
});

test('archives with ".." entries, escaping links or hard links are refused through the API', async () => {
  ok(d.tug(['create', '--name', 'tarslip', 'busybox']));
  const put = async (path: string, items: Parameters<typeof makeTar>[0], query = '') =>
    d.req('PUT', `/containers/tarslip/archive?path=${q(path)}${query}`, await makeTar(items), { 'Content-Type': 'application/x-tar' });
  const depth = '../'.repeat(12);
  for (const [items, re] of [
    [[{ name: `${depth}${sentinel.slice(1)}/${unique}`, body: 'x' }], /invalid entry name/],
    [[{ name: `ok/../../${unique}`, body: 'x' }], /invalid entry name/],
    [[{ name: 'hl', type: 'link', linkname: `${depth}${sentinel.slice(1)}/secret` }], /invalid hardlink target/],
    [[{ name: 'sl', type: 'symlink', linkname: `${depth}${sentinel.slice(1)}` }], /invalid symlink/],
  ] as const) {
    const r = await put('/tmp', [...items]);
    assert.equal(r.status, 400, r.body.toString());
    assert.match(r.json<{ message: string }>().message, re);
  }
  // absolute names and absolute link targets stay inside; a link made by the archive is not a way out
  let r = await put('/tmp', [{ name: `/${unique}-abs`, body: 'abs' }, { name: 'toroot', type: 'symlink', linkname: '/' }, { name: `toroot/${unique}-via-link`, body: 'v' }]);
  assert.equal(r.status, 200, r.body.toString());
  const listing = execFileSync('tar', ['tvf', '-'], { input: (await d.req('GET', `/containers/tarslip/archive?path=${q('/')}`)).body }).toString();
  assert.match(listing, new RegExp(`/tmp/${unique}-abs$`, 'm'));
  assert.match(listing, new RegExp(`^-.* /${unique}-via-link$`, 'm'));
  // gzip is accepted; a directory is not replaced by a file when asked not to
  r = await d.req('PUT', `/containers/tarslip/archive?path=${q('/')}`, execFileSync('gzip', ['-c'], { input: await makeTar([{ name: 'gz.txt', body: 'gz' }]) }), { 'Content-Type': 'application/x-tar' });
  assert.equal(r.status, 200, r.body.toString());
  r = await put('/', [{ name: 'tmp', body: 'file over dir' }], '&noOverwriteDirNonDir=1');
  assert.equal(r.status, 409);
  assert.match(r.json<{ message: string }>().message, /cannot overwrite directory "\/tmp" with non-directory "\/"/);
  r = await put('/etc/passwd', [{ name: 'x', body: 'x' }]);
  assert.equal(r.json<{ message: string }>().message, 'extraction point is not a directory');
  hostUntouched();
});
