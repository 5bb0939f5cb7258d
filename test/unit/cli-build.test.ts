// `tug build` and `tug builder prune` against a small fake daemon of this file's own (a unix socket that records
// each request, body included, and answers with a scripted message stream): the context tar it receives, the
// query, the output modes and exit codes; and the compact terminal view on a fake terminal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { CompactBuildView } from '../../src/cli/build-view.ts';
import { makeTar } from './_tar.ts';

interface Received { method: string; path: string; query: URLSearchParams; headers: http.IncomingHttpHeaders; body: Buffer }
type Reply = (r: Received, res: http.ServerResponse) => void;

const IMAGE_ID = `sha256:${'feedface'.repeat(8)}`;
const msg = (...m: object[]) => m.map((x) => `${JSON.stringify(x)}\r\n`).join('');
const SUCCESS = msg(
  { stream: 'Step 1/2 : FROM busybox\n' }, { stream: ' ---> 1a2b3c4d5e6f\n' },
  { stream: 'Step 2/2 : RUN echo hi\n' }, { stream: ' ---> Running in 0123456789ab\n' }, { stream: 'hi\n' },
  { stream: 'Removing intermediate container 0123456789ab\n' }, { stream: ' ---> feedfacefeed\n' },
  { aux: { ID: IMAGE_ID } }, { stream: 'Successfully built feedfacefeed\n' }, { stream: 'Successfully tagged app:1\n' },
);
const FAILURE = msg(
  { stream: 'Step 1/2 : FROM busybox\n' }, { stream: ' ---> 1a2b3c4d5e6f\n' }, { stream: 'Step 2/2 : RUN exit 3\n' },
  { stream: ' ---> Running in 0123456789ab\n' }, { stream: 'about to fail\n' },
  { errorDetail: { code: 1, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" },
);

let dir: string;
let host: string;
let server: http.Server;
const requests: Received[] = [];
let reply: Reply = (_r, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(SUCCESS); };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tug-build-'));
  const socketPath = join(dir, 'd.sock');
  host = `unix://${socketPath}`;
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r = { method: req.method ?? '', path: u.pathname.replace(/^\/v\d+\.\d+/, ''), query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(r);
      reply(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const cliEntry = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');

/** Runs tug from source; TUG_CONFIG points at an empty directory unless the test gives another. */
function tug(args: string[], o: { stdin?: string | Buffer; cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TUG_HOST: host, TUG_CONFIG: join(dir, 'no-config'), ...o.env };
    delete env.DOCKER_DEFAULT_PLATFORM;
    const p = spawn(process.execPath, ['--import', tsx, cliEntry, ...args], { env, cwd: o.cwd ?? dir });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.stdin.on('error', () => undefined);
    p.stdin.end(o.stdin ?? '');
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Entry { name: string; type: string; mode: number; uid: number; gid: number; mtime: number; linkname?: string; content: string }

async function entries(archive: Buffer): Promise<Entry[]> {
  const plain = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const x = extract();
  const list: Entry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    x.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        list.push({
          name: h.name, type: h.type ?? 'file', mode: h.mode ?? 0, uid: h.uid ?? -1, gid: h.gid ?? -1, mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
          linkname: h.linkname ?? undefined, content: Buffer.concat(chunks).toString(),
        });
        next();
      });
    });
    x.on('finish', resolve);
    x.on('error', reject);
  });
  x.end(plain);
  await done;
  return list;
}

const lastBuild = () => {
  const r = [...requests].reverse().find((x) => x.path === '/build');
  assert.ok(r, 'the daemon got a build request');
  return r;
};

/** A context directory under the test's temp dir, from a map of path → content (a trailing '/' makes a directory). */
function context(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    if (p.endsWith('/')) mkdirSync(join(root, p), { recursive: true });
    else {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), content);
    }
  }
  return root;
}

test('the context tar: .dockerignore applied, Dockerfile and .dockerignore always sent, entries as docker makes them', async () => {
  const ctx = context('ctx1', {
    'Dockerfile': 'FROM busybox\n', '.dockerignore': 'node_modules\n*.log\n!keep.log\nsecret/\nDockerfile\n.dockerignore\nvendor\n!vendor/keep/this\n',
    'app.js': 'console.log(1)\n', 'keep.log': 'kept\n', 'debug.log': 'no\n', 'node_modules/x/y.js': 'no', 'secret/key': 'no',
    'sub/dir/file.txt': 'deep\n', 'sub/debug.log': 'no', 'emptydir/': '', 'run.sh': '#!/bin/sh\n',
    'vendor/other/a': 'no', 'vendor/keep/this': 'yes', 'vendor/keep/not': 'no',
  });
  chmodSync(join(ctx, 'run.sh'), 0o755);
  symlinkSync('app.js', join(ctx, 'link'));
  utimesSync(join(ctx, 'app.js'), 1_600_000_000, 1_600_000_000);

  const r = await tug(['build', ctx]);
  assert.equal(r.code, 0, r.stderr);
  const b = lastBuild();
  assert.equal(b.method, 'POST');
  assert.equal(b.headers['content-type'], 'application/x-tar');
  assert.equal(b.query.get('dockerfile'), 'Dockerfile');
  const list = await entries(b.body);
  assert.deepEqual(list.map((e) => e.name), [
    '.dockerignore', 'Dockerfile', 'app.js', 'emptydir/', 'keep.log', 'link', 'run.sh', 'sub/', 'sub/debug.log', 'sub/dir/', 'sub/dir/file.txt',
    'vendor/keep/this',
  ], 'excluded files and directories are absent (*.log is for the root only); an exception below an excluded directory comes without its parents');
  const byName = new Map(list.map((e) => [e.name, e]));
  assert.ok(list.every((e) => e.uid === 0 && e.gid === 0), 'owner 0:0');
  assert.equal(byName.get('run.sh')!.mode, 0o755);
  assert.equal(byName.get('emptydir/')!.type, 'directory');
  assert.equal(byName.get('link')!.type, 'symlink');
  assert.equal(byName.get('link')!.linkname, 'app.js');
  assert.equal(byName.get('app.js')!.mtime, 1_600_000_000);
  assert.equal(byName.get('app.js')!.content, 'console.log(1)\n');
  assert.equal(byName.get('Dockerfile')!.content, 'FROM busybox\n');
  // the legacy builder's output, verbatim
  assert.match(r.stdout, /^Sending build context to tugboat daemon {2}\d+(\.\d+)?kB\r\r\n/);
  assert.ok(r.stdout.endsWith('Step 1/2 : FROM busybox\n ---> 1a2b3c4d5e6f\nStep 2/2 : RUN echo hi\n ---> Running in 0123456789ab\nhi\n'
    + 'Removing intermediate container 0123456789ab\n ---> feedfacefeed\nSuccessfully built feedfacefeed\nSuccessfully tagged app:1\n'), r.stdout);
});

test('flags become the query docker\'s client sends; only what was set', async () => {
  const ctx = context('ctx2', { 'Dockerfile': 'FROM busybox\n' });
  const r = await tug([
    'build', '-t', 'app:1', '--tag', 'registry.example:5000/team/app:latest', '--build-arg', 'A=1', '--build-arg', 'FROMENV', '--build-arg', 'UNSET',
    '--label', 'l1=v', '--label', 'l2', '--target', 'final', '--no-cache', '--pull', '--network', 'host', '--add-host', 'db:10.0.0.2',
    '--add-host', 'cache=10.0.0.3', '--platform', 'linux/AMD64', '--cache-from', 'a,b', '--cache-from', 'c', '--shm-size', '64m', '-m', '1g',
    '--rm=false', '--force-rm', '--cpuset-cpus', '0-1', ctx,
  ], { env: { FROMENV: 'from-env' } });
  assert.equal(r.code, 0, r.stderr);
  const q = lastBuild().query;
  assert.deepEqual(q.getAll('t'), ['app:1', 'registry.example:5000/team/app:latest']);
  assert.deepEqual(JSON.parse(q.get('buildargs')!), { A: '1', FROMENV: 'from-env', UNSET: null });
  assert.deepEqual(JSON.parse(q.get('labels')!), { l1: 'v', l2: '' });
  assert.equal(q.get('target'), 'final');
  assert.equal(q.get('nocache'), '1');
  assert.equal(q.get('pull'), '1');
  assert.equal(q.get('networkmode'), 'host');
  assert.deepEqual(q.getAll('extrahosts'), ['db:10.0.0.2', 'cache:10.0.0.3']);
  assert.equal(q.get('platform'), 'linux/amd64');
  assert.deepEqual(JSON.parse(q.get('cachefrom')!), ['a', 'b', 'c']);
  assert.equal(q.get('shmsize'), String(64 * 1024 * 1024));
  assert.equal(q.get('memory'), String(1024 ** 3));
  assert.equal(q.get('rm'), '0');
  assert.equal(q.get('forcerm'), '1');
  assert.equal(q.get('cpusetcpus'), '0-1');
  assert.equal(q.get('q'), null);

  await tug(['build', ctx]);
  const plain = lastBuild().query;
  assert.deepEqual([...plain.keys()], ['dockerfile'], 'no flags, no parameters but the Dockerfile');
  const config = JSON.parse(Buffer.from(String(lastBuild().headers['x-registry-config']), 'base64url').toString());
  assert.deepEqual(config, {}, 'no credentials: an empty X-Registry-Config');
});

test('stored credentials travel in X-Registry-Config', async () => {
  const cfg = join(dir, 'cfg');
  mkdirSync(cfg, { recursive: true });
  writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { 'registry.example:5000': { auth: Buffer.from('me:s3cr:et').toString('base64') } } }));
  const ctx = context('ctx3', { 'Dockerfile': 'FROM registry.example:5000/base\n' });
  const r = await tug(['build', ctx], { env: { TUG_CONFIG: cfg } });
  assert.equal(r.code, 0, r.stderr);
  const header = String(lastBuild().headers['x-registry-config']);
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), {
    'registry.example:5000': { username: 'me', password: 's3cr:et', serveraddress: 'registry.example:5000' },
  });
});

test('bad flag values are refused before anything is sent', async () => {
  const n = requests.length;
  const bad = await tug(['build', '-t', 'Bad:Tag', '.']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^invalid argument "Bad:Tag" for "-t, --tag" flag: invalid reference format: repository name \(library\/Bad\) must be lowercase\n/);
  const bad2 = await tug(['build', '-t', 'a b', '.']);
  assert.match(bad2.stderr, /^invalid argument "a b" for "-t, --tag" flag: invalid reference format\n/);
  const bad3 = await tug(['build', '--add-host', 'nocolon', '.']);
  assert.equal(bad3.code, 125);
  assert.match(bad3.stderr, /bad format for add-host: "nocolon"/);
  assert.equal(requests.length, n);
});

test('a Dockerfile outside the context is added under a generated name, and listed in .dockerignore', async () => {
  const ctx = context('ctx4', { 'main.c': 'int main;\n' });
  context('elsewhere', { 'Dockerfile.dev': 'FROM busybox\nCOPY main.c /\n' });
  const r = await tug(['build', '-f', 'elsewhere/Dockerfile.dev', 'ctx4'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const b = lastBuild();
  const name = b.query.get('dockerfile')!;
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  const list = await entries(b.body);
  assert.deepEqual(list.map((e) => e.name), ['main.c', name, '.dockerignore']);
  assert.equal(list[1].content, 'FROM busybox\nCOPY main.c /\n');
  assert.equal(list[2].content, `.dockerignore\n${name}\n`, 'a .dockerignore is made for the generated name');

  // with a .dockerignore of its own: the name is appended to it
  writeFileSync(join(ctx, '.dockerignore'), '*.o');
  const r2 = await tug(['build', '-f', join(dir, 'elsewhere/Dockerfile.dev'), ctx]);
  assert.equal(r2.code, 0, r2.stderr);
  const b2 = lastBuild();
  const name2 = b2.query.get('dockerfile')!;
  const list2 = await entries(b2.body);
  assert.deepEqual(list2.map((e) => e.name), ['.dockerignore', 'main.c', name2]);
  assert.equal(list2[0].content, `*.o\n${name2}\n`);

  // -f inside the context: its path in the context
  context('ctx4/build', { 'Dockerfile.prod': 'FROM busybox\n' });
  const r3 = await tug(['build', '-f', 'ctx4/build/Dockerfile.prod', 'ctx4']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.equal(lastBuild().query.get('dockerfile'), 'build/Dockerfile.prod');
});

test('-q prints only the image ID; --iidfile gets it too', async () => {
  const ctx = context('ctx5', { 'Dockerfile': 'FROM busybox\n' });
  const iid = join(dir, 'iid');
  writeFileSync(iid, 'stale');
  const r = await tug(['build', '-q', '--iidfile', iid, ctx]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${IMAGE_ID}\n`);
  assert.equal(r.stderr, '');
  assert.equal(lastBuild().query.get('q'), '1');
  assert.equal(readFileSync(iid, 'utf8'), IMAGE_ID);
});

test('a failed build: its error on stderr, exit 1; with -q the whole output goes to stderr', async () => {
  const ctx = context('ctx6', { 'Dockerfile': 'FROM busybox\nRUN exit 3\n' });
  const iid = join(dir, 'iid-failed');
  writeFileSync(iid, 'stale');
  reply = (_r, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(FAILURE); };
  try {
    const r = await tug(['build', '--iidfile', iid, ctx]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Step 2\/2 : RUN exit 3\n ---> Running in 0123456789ab\nabout to fail\n$/);
    assert.equal(r.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
    assert.throws(() => readFileSync(iid), /ENOENT/, 'a stale ID file is removed');

    const q = await tug(['build', '-q', ctx]);
    assert.equal(q.code, 1);
    assert.equal(q.stdout, '');
    assert.match(q.stderr, /^Sending build context to tugboat daemon .*\r\r\nStep 1\/2 : FROM busybox\n[^]*about to fail\nThe command '\/bin\/sh -c exit 3' returned a non-zero code: 3\n$/);
  } finally {
    reply = (_r, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(SUCCESS); };
  }
});

test('an error answered before the build starts', async () => {
  const ctx = context('ctx7', { 'Dockerfile': 'FROM busybox\n' });
  reply = (_r, res) => { res.writeHead(500, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ message: 'dockerfile parse error line 1: unknown instruction: FORM' })); };
  try {
    const r = await tug(['build', ctx]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: dockerfile parse error line 1: unknown instruction: FORM\n');
  } finally {
    reply = (_r, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(SUCCESS); };
  }
});

test('context and Dockerfile errors in docker\'s words', async () => {
  const missing = await tug(['build', 'no-such-dir']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'unable to prepare context: path "no-such-dir" not found\n');
  const ctx = context('ctx8', { 'README': 'no Dockerfile here' });
  const noFile = await tug(['build', ctx]);
  assert.equal(noFile.stderr, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${ctx}/Dockerfile: no such file or directory\n`);
  const notDir = await tug(['build', join(ctx, 'README')]);
  assert.equal(notDir.stderr, `unable to prepare context: context must be a directory: ${ctx}/README\n`);
  const url = await tug(['build', 'https://github.com/docker/rootfs.git#container:docker']);
  assert.match(url.stderr, /^unable to prepare context: .*remote contexts .*not supported/);
  const both = await tug(['build', '-f', '-', '-']);
  assert.equal(both.stderr, "invalid argument: can't use stdin for both build context and dockerfile\n");
  const badIgnore = context('ctx9', { 'Dockerfile': 'FROM x\n', '.dockerignore': 'a[\n' });
  const bad = await tug(['build', badIgnore]);
  assert.equal(bad.stderr, 'error checking context: syntax error in pattern\n');
});

test('-: a Dockerfile on stdin (empty context), or a context tar, plain or gzipped', async () => {
  const r = await tug(['image', 'build', '-t', 'x', '-'], { stdin: 'FROM busybox\nRUN true\n' });
  assert.equal(r.code, 0, r.stderr);
  let b = lastBuild();
  assert.equal(b.query.get('dockerfile'), 'Dockerfile');
  const list = await entries(b.body);
  assert.deepEqual(list.map((e) => [e.name, e.content]), [['Dockerfile', 'FROM busybox\nRUN true\n']]);

  const tar = await makeTar([{ name: 'Dockerfile', body: 'FROM busybox\n' }, { name: 'big.bin', body: Buffer.alloc(300_000, 7) }]);
  const rt = await tug(['build', '-'], { stdin: tar }); assert.equal(rt.code, 0, rt.stderr);
  b = lastBuild();
  assert.ok(b.body.equals(tar), 'the tar is sent as it came');
  assert.equal(b.query.get('dockerfile'), null, 'the daemon\'s default Dockerfile');

  const gz = gzipSync(tar);
  assert.equal((await tug(['build', '-f', 'sub/Dockerfile', '-'], { stdin: gz })).code, 0);
  b = lastBuild();
  assert.ok(b.body.equals(gz));
  assert.equal(b.query.get('dockerfile'), 'sub/Dockerfile');

  const ambiguous = await tug(['build', '-f', 'Dockerfile', '-'], { stdin: 'FROM busybox\n' });
  assert.equal(ambiguous.stderr, 'unable to prepare context: ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles\n');
});

test('-f -: the Dockerfile from stdin, the context from the directory', async () => {
  const ctx = context('ctx10', { 'data.txt': 'x', 'Dockerfile': 'FROM not-this-one\n' });
  const r = await tug(['build', '-f', '-', ctx], { stdin: 'FROM busybox\nCOPY data.txt /\n' });
  assert.equal(r.code, 0, r.stderr);
  const b = lastBuild();
  const name = b.query.get('dockerfile')!;
  assert.match(name, /^\.dockerfile\.[0-9a-f]{20}$/);
  const list = await entries(b.body);
  assert.deepEqual(list.map((e) => e.name), ['Dockerfile', 'data.txt', name, '.dockerignore']);
  assert.equal(list[2].content, 'FROM busybox\nCOPY data.txt /\n');
});

test('--compress gzips the context', async () => {
  const ctx = context('ctx11', { 'Dockerfile': 'FROM busybox\n' });
  assert.equal((await tug(['build', '--compress', ctx])).code, 0);
  const b = lastBuild();
  assert.deepEqual([...b.body.subarray(0, 2)], [0x1f, 0x8b]);
  assert.deepEqual((await entries(b.body)).map((e) => e.name), ['Dockerfile']);
});

test('builder prune: confirmation, query and docker\'s report', async () => {
  reply = (r, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(r.path === '/build/prune' ? JSON.stringify({ CachesDeleted: ['aaa111', 'bbb222'], SpaceReclaimed: 1_234_567 }) : SUCCESS);
  };
  try {
    const r = await tug(['builder', 'prune', '-a', '-f', '--filter', 'until=24h', '--keep-storage', '1g']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Deleted build cache objects:\naaa111\nbbb222\n\nTotal reclaimed space: 1.235MB\n');
    const p = requests[requests.length - 1];
    assert.equal(p.path, '/build/prune');
    assert.equal(p.query.get('all'), '1');
    assert.deepEqual(JSON.parse(p.query.get('filters')!), { until: ['24h'] });
    assert.equal(p.query.get('keep-storage'), String(1024 ** 3));

    const n = requests.length;
    const no = await tug(['builder', 'prune'], { stdin: 'n\n' });
    assert.equal(no.stdout, 'WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ');
    assert.equal(requests.length, n, 'nothing pruned without a yes');
    const yes = await tug(['builder', 'prune'], { stdin: 'y\n' });
    assert.match(yes.stdout, /\[y\/N\] Deleted build cache objects:\n/);
    assert.equal(requests[requests.length - 1].query.get('all'), null);
  } finally {
    reply = (_r, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(SUCCESS); };
  }
});

// ---- the compact view ----

function fakeTerminal(columns: number) {
  let screen = '';
  return { term: { write: (s: string) => { screen += s; }, columns: () => columns }, text: () => screen, reset: () => { screen = ''; } };
}

test('compact view: the step as a status line, the last lines of its output below, fitted to the width', () => {
  const t = fakeTerminal(30);
  const v = new CompactBuildView(t.term, 3);
  v.setStatus('Sending build context to tugboat daemon  2.048kB');
  v.render();
  assert.equal(t.text(), 'Sending build context to tug…\n', 'rows are cut one column short of the width');
  t.reset();
  v.stream('Step 3/7 : RUN apt-get install -y nginx\n');
  v.stream(' ---> Running in 0123456789ab\n');
  v.stream('line 1\nline 2\nline 3\nline 4\npartial');
  v.setStatus('Sending build context to tugboat daemon  9kB');
  v.render();
  const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;
  assert.equal(t.text(), `\x1b[1A\r\x1b[J${['Step 3/7 : RUN apt-get insta…', dim('  line 3'), dim('  line 4'), dim('  partial')].join('\n')}\n`,
    'the previous block is erased; the upload status no longer replaces the step');
  t.reset();
  v.render();
  assert.equal(t.text(), '', 'nothing changed, nothing drawn');
  v.stream('\ttab\x1b[31mred\x1b[0m 10%\r50%\r100%\n');
  v.render();
  assert.ok(t.text().startsWith('\x1b[4A\r\x1b[J'));
  assert.ok(t.text().includes(dim('  100%')), 'a line rewritten by carriage returns shows its last state');
  v.stream('Step 4/7 : COPY . /srv\n');
  v.pull({ id: 'abc', status: 'Downloading', progress: '[==>   ] 1MB/3MB', progressDetail: { current: 1 } });
  t.reset();
  v.render();
  assert.equal(t.text(), `\x1b[4A\r\x1b[J${['Step 4/7 : COPY . /srv', dim('  abc: Downloading [==>   ] …')].join('\n')}\n`);
});

test('compact view: success leaves docker\'s closing lines, failure the whole log', () => {
  const ok = fakeTerminal(80);
  const v = new CompactBuildView(ok.term);
  v.stream('Step 1/1 : FROM busybox\n ---> 1a2b3c4d5e6f\n');
  v.stream('[Warning] One or more build-args [X] were not consumed\n');
  v.stream('Successfully built 1a2b3c4d5e6f\nSuccessfully tagged app:1\n');
  v.render();
  ok.reset();
  v.succeed();
  assert.equal(ok.text(), '\x1b[5A\r\x1b[J[Warning] One or more build-args [X] were not consumed\nSuccessfully built 1a2b3c4d5e6f\nSuccessfully tagged app:1\n');

  const bad = fakeTerminal(80);
  const f = new CompactBuildView(bad.term);
  f.stream('Step 1/2 : FROM busybox\n ---> 1a2b3c4d5e6f\nStep 2/2 : RUN make\n');
  f.pull({ id: 'l1', status: 'Pull complete' });
  f.stream('compiling\nno newline at the end');
  f.render();
  bad.reset();
  f.fail();
  assert.equal(bad.text(), '\x1b[4A\r\x1b[JStep 1/2 : FROM busybox\n ---> 1a2b3c4d5e6f\nStep 2/2 : RUN make\nl1: Pull complete\ncompiling\nno newline at the end\n');
});
