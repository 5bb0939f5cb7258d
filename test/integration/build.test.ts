// Dockerfile builds end to end against a real tugd, as a user sees them: an nginx image built on a debootstrapped
// Debian and served through a published port; multi-stage builds and --target; .dockerignore; the cache (rebuilds,
// changed and touched files, build args, a daemon restart, builder prune, system df); heredocs; the same builds
// through the docker CLI's legacy builder and docker-compose; and bad input, which must leave nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TestDaemon, eventually, type Run } from '../helpers/daemon.ts';
import { debianRootfsTar } from '../helpers/debian.ts';
import { Contexts, builtId, composeIn, contextBytes, dockerIn, freePort, mountsUnder, parseSteps, tugIn, type Step } from '../helpers/build.ts';

const d = new TestDaemon();
const ctxs = new Contexts();
const DEBIAN = 'debian-base:bookworm';

before(async () => {
  await d.start();
  await d.makeImages();
  ok(d.tug(['import', debianRootfsTar(), DEBIAN]), 'import the Debian base');
});
after(async () => {
  try { await d.cleanup(); } finally { ctxs.cleanup(); }
});

const ok = (r: Run, what = 'command') => { assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`); return r.stdout; };
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
/** `tug build <args> .` run inside the context directory. */
const build = (ctx: string, args: string[] = [], timeout?: number) => tugIn(d, ctx, ['build', ...args, '.'], timeout);
type ImageInfo = { Id: string; Config: { Cmd: string[] | null; ExposedPorts?: Record<string, object>; WorkingDir?: string; Env?: string[] } };
const inspect = (ref: string) => (JSON.parse(ok(d.tug(['image', 'inspect', ref]), `inspect ${ref}`)) as ImageInfo[])[0];
/** A shell script's output in a throwaway container of `image`. */
const sh = (image: string, script: string) => ok(d.tug(['run', '--rm', image, 'sh', '-c', script]), `run ${image}`);
const containers = () => ok(d.tug(['ps', '-a', '-q', '--no-trunc']));
const show = (steps: Step[]) => steps.map((s) => `${s.n}/${s.total} ${s.instruction}${s.cached ? ' [cache]' : ''}${s.ran ? ' [ran]' : ''}`).join('\n');
/** Every step after the first FROM came from the cache and nothing ran. */
function allCached(out: string): void {
  const steps = parseSteps(out);
  assert.ok(steps.length > 1, out);
  for (const s of steps.slice(1)) if (!s.instruction.startsWith('FROM ')) assert.ok(s.cached && !s.ran, `step ${s.n} should be "Using cache":\n${show(steps)}`);
  assert.doesNotMatch(out, / ---> Running in /);
}

// ---- 1. nginx on Debian, served through a published port ----

const NGINX_DOCKERFILE = `FROM ${DEBIAN}
RUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*
COPY index.html /var/www/html/index.html
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
`;
const INDEX = '<!doctype html>\n<title>tugboat</title>\n<h1>built by tug build</h1>\n';
let webCtx = '';

test('nginx on the debootstrapped Debian: tug build -t web ., then run -d -p <port>:80 web serves the custom index.html', { timeout: 300_000 }, async () => {
  webCtx = ctxs.make({ Dockerfile: NGINX_DOCKERFILE, 'index.html': INDEX });
  const out = ok(build(webCtx, ['-t', 'web'], 300_000), 'tug build');
  const steps = parseSteps(out);
  assert.deepEqual(steps.map((s) => `${s.n}/${s.total} ${s.instruction}`), NGINX_DOCKERFILE.trim().split('\n').map((l, i) => `${i + 1}/5 ${l}`));
  assert.ok(steps[1].ran, 'apt-get ran in a step container');
  assert.match(steps[1].lines.join('\n'), /Setting up nginx/);
  assert.match(out, /^Removing intermediate container [0-9a-f]{12}$/m);
  assert.match(out, /^Successfully tagged web:latest$/m);
  const image = inspect('web');
  assert.equal(image.Id.slice(7, 19), builtId(out));
  assert.deepEqual(image.Config.Cmd, ['nginx', '-g', 'daemon off;']);
  assert.deepEqual(Object.keys(image.Config.ExposedPorts ?? {}), ['80/tcp']);
  assert.equal(containers(), '', 'no build container is left');

  const port = await freePort();
  const id = ok(d.tug(['run', '-d', '-p', `${port}:80`, 'web']), 'run web').trim();
  try {
    const get = () => fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then((r) => (r.ok ? r.text() : `HTTP ${r.status}`), (e: Error) => e.message);
    assert.equal(await eventually(get, (t) => t === INDEX, 20_000), INDEX);
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.equal(missing.status, 404, 'it is nginx answering');
    assert.match(missing.headers.get('server') ?? '', /^nginx/);
  } finally {
    ok(d.tug(['rm', '-f', id]), 'rm the web container');
  }
});

// ---- 8. the same through the docker CLI ----

test('docker CLI (DOCKER_BUILDKIT=0) on the nginx Dockerfile: the same cached image, -q, --iidfile; --no-cache builds the same content', { timeout: 300_000 }, () => {
  assert.ok(webCtx, 'needs the nginx build');
  const web = inspect('web');
  const cached = dockerIn(d, webCtx, ['build', '-t', 'web-docker', '.']);
  ok(cached, 'docker build');
  assert.match(cached.stdout, /^Sending build context to Docker daemon/m);
  allCached(cached.stdout);
  assert.match(cached.stdout, /^Successfully tagged web-docker:latest$/m);
  assert.equal(inspect('web-docker').Id, web.Id, 'the docker CLI\'s context hits the same cache');

  const quiet = dockerIn(d, webCtx, ['build', '-q', '.']);
  assert.equal(ok(quiet, 'docker build -q'), `${web.Id}\n`);
  // without -q the CLI takes the ID from the build's aux message (with -q, from the printed output)
  const iid = join(dirname(webCtx), 'docker.iid');
  ok(dockerIn(d, webCtx, ['build', '--iidfile', iid, '.']), 'docker build --iidfile');
  assert.equal(readFileSync(iid, 'utf8'), web.Id);
  ok(dockerIn(d, webCtx, ['build', '-q', '--iidfile', iid, '.']), 'docker build -q --iidfile');
  assert.equal(readFileSync(iid, 'utf8').trim(), web.Id);

  const fresh = dockerIn(d, webCtx, ['build', '--no-cache', '-t', 'web-docker', '.'], 300_000);
  ok(fresh, 'docker build --no-cache');
  const steps = parseSteps(fresh.stdout);
  assert.ok(steps[1].ran && !steps.some((s) => s.cached), show(steps));
  const other = inspect('web-docker');
  assert.notEqual(other.Id, web.Id, 'a new build, not the cache');
  const files = (image: string) => sh(image, 'find /usr/sbin/nginx /etc/nginx /var/www/html -type f | sort | xargs md5sum; dpkg-query -W nginx');
  const tugFiles = files('web');
  assert.match(tugFiles, new RegExp(`^${md5(INDEX)}  /var/www/html/index.html$`, 'm'));
  assert.match(tugFiles, /^[0-9a-f]{32} {2}\/usr\/sbin\/nginx$/m);
  assert.equal(files('web-docker'), tugFiles);
  assert.deepEqual(other.Config.Cmd, web.Config.Cmd);
  assert.deepEqual(other.Config.ExposedPorts, web.Config.ExposedPorts);
});

// ---- 2. multi-stage ----

// "compiles" a program: a script generated with the shell's tools in the builder stage
const GEN = `#!/bin/sh
printf '#!/bin/sh\\necho "%s from the %s stage"\\n' "$(echo compiled | tr a-z A-Z)" builder
`;
const MULTI = `FROM busybox AS builder
WORKDIR /src
COPY gen.sh .
RUN sh gen.sh > hello && chmod 755 hello && echo built-the-artifact

FROM busybox AS unused
RUN echo unused-stage-ran

FROM busybox
COPY --from=builder /src/hello /usr/local/bin/hello
CMD ["hello"]
`;
const ARTIFACT_OUTPUT = 'COMPILED from the builder stage\n';
let multiCtx = '';

test('multi-stage: COPY --from=builder into a busybox image; an unneeded stage is not built; --target stops at its stage', () => {
  multiCtx = ctxs.make({ Dockerfile: MULTI, 'gen.sh': GEN });
  const out = ok(build(multiCtx, ['-t', 'multi']), 'tug build');
  assert.deepEqual(parseSteps(out).map((s) => `${s.n}/${s.total} ${s.instruction}`), [
    '1/7 FROM busybox AS builder', '2/7 WORKDIR /src', '3/7 COPY gen.sh .', '4/7 RUN sh gen.sh > hello && chmod 755 hello && echo built-the-artifact',
    '5/7 FROM busybox', '6/7 COPY --from=builder /src/hello /usr/local/bin/hello', '7/7 CMD ["hello"]',
  ]);
  assert.match(out, /^built-the-artifact$/m);
  assert.doesNotMatch(out, /unused-stage-ran/, 'the stage nothing needs is not built');
  assert.equal(ok(d.tug(['run', '--rm', 'multi']), 'run multi'), ARTIFACT_OUTPUT);
  assert.equal(sh('multi', 'ls -l /usr/local/bin/hello | cut -c1-10; test -e /src && echo has-src || echo no-src'), '-rwxr-xr-x\nno-src\n', 'only the artifact came over');

  const target = ok(build(multiCtx, ['--target', 'builder', '-t', 'multi-builder']), 'tug build --target builder');
  assert.deepEqual(parseSteps(target).map((s) => `${s.n}/${s.total} ${s.instruction}`), [
    '1/4 FROM busybox AS builder', '2/4 WORKDIR /src', '3/4 COPY gen.sh .', '4/4 RUN sh gen.sh > hello && chmod 755 hello && echo built-the-artifact',
  ]);
  assert.doesNotMatch(target, /unused-stage-ran|COPY --from/);
  assert.equal(sh('multi-builder', 'cd /src && ls && ./hello && { test -e /usr/local/bin/hello && echo has-hello || echo no-hello; }'), `gen.sh\nhello\n${ARTIFACT_OUTPUT}no-hello\n`);
  assert.equal(inspect('multi-builder').Config.WorkingDir, '/src');
  assert.deepEqual(inspect('multi-builder').Config.Cmd, ['sh'], 'busybox\'s CMD, not the final stage\'s');
  assert.equal(containers(), '');
});

test('docker CLI and docker-compose (build: ., image: …) build the multi-stage Dockerfile from scratch: the same content as tug\'s', { timeout: 120_000 }, () => {
  assert.ok(multiCtx, 'needs the multi-stage build');
  const content = (image: string) => `${ok(d.tug(['run', '--rm', image]))}${sh(image, 'md5sum /usr/local/bin/hello; ls -l /usr/local/bin/hello | cut -c1-10; ls /')}`;
  const want = content('multi');
  const tugImage = inspect('multi');

  const r = dockerIn(d, multiCtx, ['build', '--no-cache', '-t', 'multi-docker', '.']);
  ok(r, 'docker build --no-cache');
  assert.ok(!parseSteps(r.stdout).some((s) => s.cached), r.stdout);
  assert.doesNotMatch(r.stdout, /unused-stage-ran/);
  assert.notEqual(inspect('multi-docker').Id, tugImage.Id);
  assert.equal(content('multi-docker'), want);
  assert.deepEqual(inspect('multi-docker').Config.Cmd, ['hello']);

  writeFileSync(join(multiCtx, 'docker-compose.yml'), 'version: "3"\nservices:\n  app:\n    build: .\n    image: multi-compose\n');
  const c = composeIn(d, multiCtx, ['build', '--no-cache']);
  ok(c, 'docker-compose build');
  assert.match(c.stdout + c.stderr, /^Successfully tagged multi-compose:latest$/m);
  assert.match(c.stdout + c.stderr, /^built-the-artifact$/m, 'a real build, not the cache');
  assert.notEqual(inspect('multi-compose').Id, tugImage.Id);
  assert.equal(content('multi-compose'), want);
  assert.deepEqual(inspect('multi-compose').Config.Cmd, ['hello']);
  assert.equal(containers(), '');
});

// ---- 3. .dockerignore ----

test('.dockerignore: 5,000 files in node_modules/ and *.log stay out of the context and the image; the ! exceptions get in', () => {
  const files: Record<string, string> = {
    Dockerfile: 'FROM busybox\nCOPY . /app\nRUN find /app | sort\n',
    '.dockerignore': '# dependencies are installed in the image\nnode_modules\n*.log\n!important.log\n!node_modules/keep-me.js\n',
    'src/app.js': 'console.log("app");\n', 'debug.log': 'noise\n', 'important.log': 'keep this log\n', 'node_modules/keep-me.js': 'module.exports = "kept";\n',
  };
  for (let i = 0; i < 5000; i++) files[`node_modules/pkg${i % 50}/m${i}.js`] = `module.exports = ${i}; // ${'x'.repeat(200)}\n`;
  const ctx = ctxs.make(files);
  const out = ok(build(ctx, ['-t', 'ignored']), 'tug build');
  assert.ok(contextBytes(out) < 100_000, `the excluded files are not sent: ${/^Sending.*$/m.exec(out)?.[0]}`);
  const want = ['/app', '/app/.dockerignore', '/app/Dockerfile', '/app/important.log', '/app/node_modules', '/app/node_modules/keep-me.js', '/app/src', '/app/src/app.js'];
  assert.deepEqual(parseSteps(out)[2].lines.filter((l) => l.startsWith('/')), want, 'RUN find /app in the build');
  assert.deepEqual(ok(d.tug(['run', '--rm', 'ignored', 'find', '/app'])).split('\n').filter(Boolean).sort(), want, 'the image');
  assert.equal(sh('ignored', 'cat /app/node_modules/keep-me.js /app/important.log'), 'module.exports = "kept";\nkeep this log\n');
  // the docker CLI applies .dockerignore itself: its context gives the same COPY, so the same image
  assert.equal(ok(dockerIn(d, ctx, ['build', '-q', '.']), 'docker build -q').trim(), inspect('ignored').Id);
});

// ---- 4, 5. the cache ----

test('a second build of the same context reruns nothing: every step after FROM is "Using cache", the same image ID; -q and --iidfile', () => {
  const ctx = ctxs.make({
    Dockerfile: 'FROM busybox\nENV GREETING=hi\nWORKDIR /w\nCOPY a.txt .\nRUN cat a.txt > copy.txt && echo ran-the-step\nLABEL purpose=cache-test\nCMD ["cat", "/w/copy.txt"]\n',
    'a.txt': 'cached content\n',
  });
  const first = ok(build(ctx, ['-t', 'cached']), 'first build');
  assert.match(first, /^ran-the-step$/m);
  assert.ok(!parseSteps(first).some((s) => s.cached), 'a fresh build');
  const second = ok(build(ctx, ['-t', 'cached']), 'second build');
  assert.equal(parseSteps(second).length, 7);
  allCached(second);
  assert.doesNotMatch(second, /^ran-the-step$/m);
  assert.equal(builtId(second), builtId(first));
  assert.deepEqual(parseSteps(second).map((s) => s.id), parseSteps(first).map((s) => s.id), 'every step the same image');

  const iid = join(dirname(ctx), 'tug.iid');
  const quiet = ok(tugIn(d, ctx, ['build', '-q', '--iidfile', iid, '.']), 'tug build -q --iidfile');
  const id = inspect('cached').Id;
  assert.equal(quiet, `${id}\n`);
  assert.equal(readFileSync(iid, 'utf8'), id);
  assert.equal(ok(d.tug(['run', '--rm', 'cached'])), 'cached content\n');
});

test('changing one copied file reruns only the steps after it; touching it (mtime only) or changing a file nothing copies still hits the cache', () => {
  const ctx = ctxs.make({ Dockerfile: 'FROM busybox\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt\n', 'a.txt': 'version 1\n', 'other.txt': 'not copied\n' });
  const first = parseSteps(ok(build(ctx, ['-t', 'changes']), 'first build'));
  assert.ok(first[1].ran && first[3].ran);

  writeFileSync(join(ctx, 'a.txt'), 'version 2\n');
  const out = ok(build(ctx, ['-t', 'changes']), 'build after the change');
  const steps = parseSteps(out);
  assert.ok(steps[1].cached && !steps[1].ran, `step 2 comes from the cache:\n${show(steps)}`);
  assert.equal(steps[1].id, first[1].id);
  assert.ok(!steps[2].cached, `COPY runs again:\n${show(steps)}`);
  assert.ok(!steps[3].cached && steps[3].ran, `the RUN after it runs again:\n${show(steps)}`);
  assert.equal(out.match(/ ---> Running in /g)?.length, 1, 'one step container: the last RUN');
  assert.ok(steps[3].lines.includes('version 2'), out);
  assert.equal(sh('changes', 'cat /one /a.txt'), 'one\nversion 2\n');
  const changedId = builtId(out);

  const later = new Date(Date.now() + 3_600_000);
  utimesSync(join(ctx, 'a.txt'), later, later);
  writeFileSync(join(ctx, 'other.txt'), 'changed, but nothing copies it\n');
  const touched = ok(build(ctx, ['-t', 'changes']), 'build after touch');
  allCached(touched);
  assert.equal(builtId(touched), changedId);
});

// ---- 6. build args ----

test('build args: ARG NAME=default; --build-arg NAME=x changes the image; each value is cached on its own; an unused one is warned about', () => {
  const ctx = ctxs.make({ Dockerfile: 'FROM busybox\nARG NAME=default\nRUN echo "name is $NAME" && echo $NAME > /name\n' });
  const def = ok(build(ctx, ['-t', 'args-default']), 'build with the default');
  assert.match(def, /^name is default$/m);
  assert.equal(sh('args-default', 'cat /name'), 'default\n');

  const x = ok(build(ctx, ['--build-arg', 'NAME=x', '-t', 'args-x']), 'build with NAME=x');
  const steps = parseSteps(x);
  assert.ok(steps[1].cached, 'the ARG instruction itself is the same');
  assert.ok(steps[2].ran && !steps[2].cached, show(steps));
  assert.match(x, /^name is x$/m);
  assert.equal(sh('args-x', 'cat /name'), 'x\n');
  assert.notEqual(builtId(x), builtId(def));
  assert.match(ok(d.tug(['history', '--no-trunc', 'args-x'])), /\|1 NAME=x \/bin\/sh -c echo "name is \$NAME"/, 'history shows the value RUN saw');

  const def2 = ok(build(ctx, ['-t', 'args-default']), 'the default again');
  allCached(def2);
  assert.equal(builtId(def2), builtId(def));
  const x2 = ok(build(ctx, ['--build-arg', 'NAME=x', '-t', 'args-x']), 'NAME=x again');
  allCached(x2);
  assert.equal(builtId(x2), builtId(x));
  assert.doesNotMatch(x2, /not consumed/);

  const unused = ok(build(ctx, ['--build-arg', 'NAME=x', '--build-arg', 'FOO=1']), 'build with an unused arg');
  assert.match(unused, /^\[Warning\] One or more build-args \[FOO\] were not consumed$/m);
  assert.equal(builtId(unused), builtId(x), 'an unused arg changes nothing');
  const viaDocker = dockerIn(d, ctx, ['build', '--build-arg', 'FOO=1', '--build-arg', 'BAR=2', '.']);
  assert.match(ok(viaDocker, 'docker build'), /^\[Warning\] One or more build-args \[BAR FOO\] were not consumed$/m);
});

// ---- 7. heredocs ----

test('heredocs: RUN <<EOF runs a multi-line script; COPY <<EOF /file writes the file (build args expanded unless the marker is quoted)', () => {
  const ctx = ctxs.make({
    Dockerfile: `FROM busybox
ARG WHO=world
RUN <<EOF
set -e
echo "line one" > /script-out
for i in 1 2 3; do
  echo "loop $i" >> /script-out
done
echo heredoc-script-ran
EOF
COPY <<EOF /greeting
hello \${WHO}
second line
EOF
COPY <<'EOF' /literal
keep $WHO as is
EOF
`,
  });
  const out = ok(build(ctx, ['-t', 'heredoc']), 'tug build');
  assert.equal(out.match(/^heredoc-script-ran$/gm)?.length, 1);
  assert.equal(sh('heredoc', 'cat /script-out'), 'line one\nloop 1\nloop 2\nloop 3\n');
  assert.equal(sh('heredoc', 'cat /greeting'), 'hello world\nsecond line\n');
  assert.equal(sh('heredoc', 'cat /literal'), 'keep $WHO as is\n');
  assert.equal(sh('heredoc', 'ls -l /greeting | cut -c1-10'), '-rw-r--r--\n');

  allCached(ok(build(ctx, ['-t', 'heredoc']), 'rebuild'));
  ok(build(ctx, ['--build-arg', 'WHO=tugboat', '-t', 'heredoc-arg']), 'build with WHO=tugboat');
  assert.equal(sh('heredoc-arg', 'cat /greeting /literal'), 'hello tugboat\nsecond line\nkeep $WHO as is\n');
});

// ---- 10. bad input ----

/**
 * A build that must be refused: non-zero exit, nothing tagged, no container, no mount under the data root
 * and no spooled context left behind. Returns what the CLI printed.
 */
async function refused(tag: string, files: Record<string, string>, prepare?: (ctx: string) => void): Promise<Run> {
  const ctx = ctxs.make(files);
  prepare?.(ctx);
  const mounts = mountsUnder(d.root);
  const r = build(ctx, ['-t', tag]);
  assert.notEqual(r.code, 0, `the build must fail:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout, /Successfully/);
  assert.match(d.tug(['image', 'inspect', tag]).stderr, /No such image/, 'nothing is tagged');
  assert.equal(containers(), '', 'no build container is left');
  assert.deepEqual(mountsUnder(d.root), mounts, 'no mount is left');
  // the daemon removes the spooled context once the response has ended
  assert.deepEqual(await eventually(() => readdirSync(join(d.root, 'tmp')), (l) => l.length === 0, 5000), [], 'no spooled context is left');
  return r;
}

test('a Dockerfile syntax error is refused before anything runs, naming the line', async () => {
  const r = await refused('bad-syntax', { Dockerfile: 'FROM busybox\nRUN echo hi\nENV\nRUN echo never\n' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dockerfile parse error on line 3: ENV requires at least one argument/);
  assert.doesNotMatch(r.stdout, /Step /);
});

test('an unknown instruction is refused, naming it and its line', async () => {
  const r = await refused('bad-instruction', { Dockerfile: 'FROM busybox\nRUN echo hi\nFROBNICATE /x\n' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dockerfile parse error on line 3: unknown instruction: FROBNICATE/);
  assert.doesNotMatch(r.stdout, /Step /);
});

test('a missing base image fails in FROM with the pull\'s error (no registry is reachable)', { timeout: 90_000 }, async () => {
  const r = await refused('bad-base', { Dockerfile: 'FROM nosuchimage-xyz\nRUN echo never\n' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Step 1\/2 : FROM nosuchimage-xyz$/m);
  assert.doesNotMatch(r.stdout, /Step 2\/2/);
  assert.match(r.stderr, /nosuchimage-xyz/);
});

test('COPY of a file the context lacks is refused with docker\'s message', async () => {
  const r = await refused('bad-missing', { Dockerfile: 'FROM busybox\nCOPY nothere.txt /x\n', 'there.txt': 'x' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat nothere\.txt: file does not exist/);
});

test('COPY escaping the context (../x, a symlink to /etc/passwd, a symlinked /etc) is refused; the host\'s file goes nowhere', async () => {
  const passwd = readFileSync('/etc/passwd');
  const passwdMtime = statSync('/etc/passwd').mtimeMs;
  const up = await refused('bad-escape', { Dockerfile: 'FROM busybox\nCOPY ../outside.txt /x\n' }, (ctx) => writeFileSync(join(ctx, '../outside.txt'), 'outside the context\n'));
  assert.equal(up.code, 1);
  assert.match(up.stderr, /COPY failed: forbidden path outside the build context: \.\.\/outside\.txt/);

  for (const [tag, src, link, target] of [['bad-link', 'link', 'link', '/etc/passwd'], ['bad-dirlink', 'hostetc/passwd', 'hostetc', '/etc']]) {
    const r = await refused(tag, { Dockerfile: `FROM busybox\nCOPY ${src} /x\n` }, (ctx) => symlinkSync(target, join(ctx, link)));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /COPY failed: (forbidden path outside the build context|file not found in build context)/);
    assert.doesNotMatch(r.stdout + r.stderr, /root:x:0:0/);
  }
  assert.deepEqual(readFileSync('/etc/passwd'), passwd);
  assert.equal(statSync('/etc/passwd').mtimeMs, passwdMtime);
});

test('a failing RUN shows its output and "returned a non-zero code: 3"; the CLI exits with that code, like docker\'s', async () => {
  const files = { Dockerfile: 'FROM busybox\nRUN echo visible-output && exit 3\nRUN echo never-reached\n' };
  const r = await refused('bad-run', files);
  assert.match(r.stdout, /^visible-output$/m);
  assert.match(r.stderr, /The command '\/bin\/sh -c echo visible-output && exit 3' returned a non-zero code: 3/);
  assert.doesNotMatch(r.stdout, /never-reached/);
  // docker's CLI exits with the code of the build's error (the RUN's exit code), against dockerd as against tugd
  const viaDocker = dockerIn(d, ctxs.make(files), ['build', '-t', 'bad-run', '.']);
  assert.equal(viaDocker.code, 3, viaDocker.stderr);
  assert.equal(r.code, viaDocker.code);
  const cid = /^ ---> Running in ([0-9a-f]{12})$/m.exec(r.stdout)?.[1];
  assert.ok(cid, r.stdout);
  assert.match(d.tug(['inspect', cid]).stderr, /No such object/, 'the failed step\'s container is gone');
  assert.equal(containers(), '');
});

test('a stage failing while another stage runs in parallel: the build fails with its error and leaves nothing behind', { timeout: 60_000 }, async () => {
  const r = await refused('bad-parallel', {
    Dockerfile: 'FROM busybox AS slow\nRUN sleep 2 && echo slow-done > /x\n\nFROM busybox AS broken\nRUN exit 7\n\nFROM busybox\nCOPY --from=slow /x /x\nCOPY --from=broken /y /y\n',
  });
  assert.match(r.stderr, /The command '\/bin\/sh -c exit 7' returned a non-zero code: 7/);
  assert.equal(r.code, 7);
});

// COPY's destination resolves inside the image, as docker's builders do (symlinks followed within the rootfs): a
// symlink in the image pointing at a host path must write into the image, never onto the host.
test('COPY through an image symlink to a directory the image lacks: the directory is made in the image, the host path stays empty', () => {
  const hostDir = mkdtempSync(join(tmpdir(), 'tugbuild-host-'));
  try {
    const ctx = ctxs.make({ Dockerfile: `FROM busybox\nRUN ln -s ${hostDir} /escape\nCOPY a.txt /escape/pwned\n`, 'a.txt': 'inside the image\n' });
    const r = build(ctx, ['-t', 'symlink-dir']);
    assert.deepEqual(readdirSync(hostDir), [], 'nothing lands on the host');
    ok(r, 'docker resolves /escape inside the image and makes the directory');
    assert.equal(sh('symlink-dir', `cat ${hostDir}/pwned; readlink /escape`), `inside the image\n${hostDir}\n`);
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
  }
});

test('COPY onto an image symlink to a file writes the file it points to inside the image; the host path stays untouched', () => {
  const hostDir = mkdtempSync(join(tmpdir(), 'tugbuild-host-'));
  try {
    mkdirSync(join(hostDir, 'sub'));
    const ctx = ctxs.make({ Dockerfile: `FROM busybox\nRUN mkdir -p ${hostDir}/sub && ln -s ${hostDir}/sub/file /escfile\nCOPY a.txt /escfile\n`, 'a.txt': 'through the link\n' });
    const r = build(ctx, ['-t', 'symlink-file']);
    assert.deepEqual(readdirSync(join(hostDir, 'sub')), [], 'nothing lands on the host');
    ok(r, 'tug build');
    assert.equal(sh('symlink-file', `readlink /escfile; cat ${hostDir}/sub/file`), `${hostDir}/sub/file\nthrough the link\n`, 'the link stays, its target gets the content');
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
  }
});

// ---- 12. restart ----

test('the build cache survives a tugd restart', { timeout: 60_000 }, async () => {
  const ctx = ctxs.make({ Dockerfile: 'FROM busybox\nRUN echo before-restart > /r\nCOPY a.txt /a.txt\nCMD ["cat", "/r", "/a.txt"]\n', 'a.txt': 'restart\n' });
  const first = ok(build(ctx, ['-t', 'restart']), 'build before the restart');
  await d.kill();
  await d.start();
  const again = ok(build(ctx, ['-t', 'restart']), 'build after the restart');
  allCached(again);
  assert.equal(builtId(again), builtId(first));
  assert.equal(ok(d.tug(['run', '--rm', 'restart'])), 'before-restart\nrestart\n');
});

// ---- 11. system df, builder prune ----

const buildCacheCount = () => {
  const m = /^Build Cache\s+(\d+)\s/m.exec(ok(d.tug(['system', 'df']), 'system df'));
  assert.ok(m, 'system df has a Build Cache row');
  return Number(m[1]);
};

test('builder prune never deletes tagged images (-f nor -a)', () => {
  const ctx = ctxs.make({ Dockerfile: 'FROM busybox\nRUN echo kept > /kept\n' });
  const id = builtId(ok(build(ctx, ['-t', 'keep-me']), 'tug build'));
  ok(d.tug(['builder', 'prune', '-f']), 'builder prune -f');
  assert.equal(inspect('keep-me').Id.slice(7, 19), id, 'builder prune -f kept keep-me');
  assert.equal(sh('keep-me', 'cat /kept'), 'kept\n');
  ok(d.tug(['builder', 'prune', '-a', '-f']), 'builder prune -a -f');
  assert.equal(inspect('keep-me').Id.slice(7, 19), id, 'builder prune -a -f kept keep-me');
});

test('system df lists the build cache; builder prune -f removes it (the next build reruns its steps); -a -f empties it', () => {
  const ctx = ctxs.make({ Dockerfile: 'FROM busybox\nRUN head -c 300000 /dev/urandom > /blob && echo made-the-blob\n' });
  assert.match(ok(build(ctx), 'untagged build'), /^made-the-blob$/m);
  allCached(ok(build(ctx), 'cached rebuild'));
  assert.ok(buildCacheCount() > 0);
  const verbose = ok(d.tug(['system', 'df', '-v']), 'system df -v');
  assert.match(verbose, /^Build cache usage: /m);
  assert.match(verbose, /^[0-9a-f]{12}\s/m, 'cache records are listed');

  const pruned = ok(d.tug(['builder', 'prune', '-f']), 'builder prune -f');
  assert.match(pruned, /^Deleted build cache objects:\n[0-9a-z]+\n/m);
  const reclaimed = /^Total reclaimed space: ([\d.]+)(k?B|MB)$/m.exec(pruned);
  assert.ok(reclaimed && Number(reclaimed[1]) * (reclaimed[2] === 'MB' ? 1e6 : reclaimed[2] === 'kB' ? 1e3 : 1) >= 300_000, pruned);
  const rerun = ok(build(ctx), 'build after prune');
  assert.ok(parseSteps(rerun)[1].ran, `the step runs again:\n${rerun}`);
  assert.match(rerun, /^made-the-blob$/m);

  ok(d.tug(['builder', 'prune', '-a', '-f']), 'builder prune -a -f');
  assert.equal(buildCacheCount(), 0);
  assert.ok(parseSteps(ok(build(ctx), 'build after prune -a'))[1].ran, 'the step runs again');
});
