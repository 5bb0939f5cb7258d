// Dockerfile instructions as a user sees their effect: the built image's config (inspect), its files (run),
// ONBUILD triggers in a child build, ADD from a URL (checksum checked) and of a local tar, COPY --chown/--chmod,
// SHELL, VOLUME, parallel stages, the API's quiet mode, and the history a build leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon.ts';
import { TestRegistry } from '../helpers/registry.ts';

const d = new TestDaemon();
const work = mkdtempSync(join(tmpdir(), 'tug-build-ins-'));
let server: Server;
let port = 0;
const REMOTE = 'remote file body\n';

before(async () => {
  await d.start();
  await d.makeImages();
  server = createServer((req, res) => {
    if (req.url === '/files/remote.txt') { res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }); res.end(REMOTE); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  await new Promise((r) => server.close(r));
  await d.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`); return r.stdout; };

let dirs = 0;
function contextDir(files: Record<string, string>): string {
  const dir = join(work, `c${++dirs}`);
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

test('config instructions land in the image config; a child build runs the ONBUILD trigger', async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox',
      'ENV A=1 B="two words"',
      'ENV C=${A}-${B:-x}',
      'LABEL maintainer="someone" version=1.0',
      'EXPOSE 8080 53/udp',
      'VOLUME ["/data"]',
      'USER nobody',
      'WORKDIR /srv',
      'WORKDIR sub',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD wget -q localhost || exit 1',
      'ONBUILD RUN echo from-trigger > /tmp/onbuild',
      'SHELL ["/bin/sh", "-ec"]',
      'ENTRYPOINT ["sh", "-c"]',
      'CMD ["echo hello"]',
    ].join('\n'),
  });
  ok(await d.tugAsync(['build', '-t', 'cfg:1', '--label', 'extra=yes', dir]));
  const [info] = JSON.parse(ok(d.tug(['image', 'inspect', 'cfg:1']))) as Array<{ Config: Record<string, unknown> }>;
  const c = info.Config;
  assert.ok((c.Env as string[]).includes('B=two words'));
  assert.ok((c.Env as string[]).includes('C=1-two words'));
  assert.deepEqual(c.Labels, { maintainer: 'someone', version: '1.0', extra: 'yes' });
  assert.deepEqual(Object.keys(c.ExposedPorts as object).sort(), ['53/udp', '8080/tcp']);
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/srv/sub');
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5e9, Timeout: 2e9, Retries: 4 });
  assert.deepEqual(c.OnBuild, ['RUN echo from-trigger > /tmp/onbuild']);
  assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
  assert.deepEqual(c.Entrypoint, ['sh', '-c']);
  assert.deepEqual(c.Cmd, ['echo hello']);
  assert.equal(ok(d.tug(['run', '--rm', 'cfg:1'])).trim(), 'hello');

  // the trigger runs in the child's build (as the image's user, with its shell), and is not inherited further
  const child = contextDir({ Dockerfile: 'FROM cfg:1\n' });
  const out = ok(await d.tugAsync(['build', '--progress', 'plain', '-t', 'cfg:child', child]));
  assert.match(out, /# Executing 1 build trigger/);
  assert.equal(ok(d.tug(['run', '--rm', '--entrypoint', 'cat', 'cfg:child', '/tmp/onbuild'])).trim(), 'from-trigger');
  const [childInfo] = JSON.parse(ok(d.tug(['image', 'inspect', 'cfg:child']))) as Array<{ Config: { OnBuild: unknown } }>;
  assert.ok(!childInfo.Config.OnBuild || (childInfo.Config.OnBuild as unknown[]).length === 0);
});

test('ADD fetches a URL (checksum checked, mode 0600, Last-Modified), unpacks a local tar; COPY --chown/--chmod', async () => {
  const sum = createHash('sha256').update(REMOTE).digest('hex');
  const dir = contextDir({ 'f.txt': 'plain\n', 'tree/a/inner.txt': 'inner\n' });
  execFileSync('tar', ['-czf', join(dir, 'files.tar.gz'), '-C', join(dir, 'tree'), '.']);
  rmSync(join(dir, 'tree'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), [
    'FROM busybox',
    "RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group",
    `ADD --checksum=sha256:${sum} http://127.0.0.1:${port}/files/remote.txt /dl/`,
    'ADD files.tar.gz /unpacked/',
    'COPY --chown=app:app --chmod=640 f.txt /home/app/f.txt',
  ].join('\n'));
  ok(await d.tugAsync(['build', '-t', 'add:1', dir]));
  const ls = ok(d.tug(['run', '--rm', 'add:1', 'sh', '-c', 'cat /dl/remote.txt; stat -c "%a %Y" /dl/remote.txt; cat /unpacked/a/inner.txt; stat -c "%u:%g %a" /home/app/f.txt; ls /unpacked']));
  assert.equal(ls, `${REMOTE}600 1445412480\ninner\n1000:1000 640\na\n`);

  const bad = contextDir({ Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/remote.txt /x\n` });
  const r = await d.tugAsync(['build', '-t', 'add:bad', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /digest mismatch/);
  assert.notEqual(d.tug(['image', 'inspect', 'add:bad']).code, 0);
  const missing = contextDir({ Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/nope.txt /x\n` });
  const m = await d.tugAsync(['build', missing]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /404/);
});

test('COPY follows a context symlink but names the file as written; wildcards; existing image directories keep their owner and mode', async () => {
  const dir = contextDir({ 'index.html': 'page\n', 'a1.txt': '1', 'a2.txt': '2', 'b.txt': 'b' });
  execFileSync('ln', ['-s', 'index.html', join(dir, 'link.html')]);
  writeFileSync(join(dir, 'Dockerfile'), [
    'FROM busybox',
    'RUN mkdir -p /srv/own && chown 1234:5678 /srv/own && chmod 0701 /srv/own',
    'COPY link.html /lnk/',
    'COPY a*.txt /srv/own/',
  ].join('\n'));
  ok(await d.tugAsync(['build', '-t', 'lnk:1', dir]));
  const out = ok(d.tug(['run', '--rm', 'lnk:1', 'sh', '-c', 'ls /lnk; cat /lnk/link.html; test -L /lnk/link.html && echo link || echo file; ls /srv/own; stat -c "%u:%g %a" /srv/own']));
  assert.equal(out, 'link.html\npage\nfile\na1.txt\na2.txt\n1234:5678 701\n');
});

test('COPY into a VOLUME path is kept; RUN changes there are not (docker\'s rule); files of COPY are root\'s', async () => {
  const dir = contextDir({
    'data.txt': 'copied\n',
    Dockerfile: 'FROM busybox\nVOLUME /v\nCOPY data.txt /v/\nRUN echo lost > /v/run.txt\nRUN echo kept > /kept.txt\n',
  });
  ok(await d.tugAsync(['build', '-t', 'vol:1', dir]));
  assert.equal(ok(d.tug(['run', '--rm', 'vol:1', 'sh', '-c', 'ls /v; stat -c %u /v/data.txt; cat /kept.txt'])), 'data.txt\n0\nkept\n');
});

test('independent stages build at once; output stays in stage order', async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox AS a', 'RUN sleep 3 && echo stage-a > /a',
      'FROM busybox AS b', 'RUN sleep 3 && echo stage-b > /b',
      'FROM busybox', 'COPY --from=a /a /a', 'COPY --from=b /b /b', 'RUN cat /a /b',
    ].join('\n'),
  });
  const t0 = Date.now();
  const out = ok(await d.tugAsync(['build', '--progress', 'plain', '--no-cache', '-t', 'par:1', dir]));
  const took = Date.now() - t0;
  // one after the other they take 6 s at the least
  assert.ok(took < 5500, `two 3 s stages took ${took} ms: not built at once`);
  const steps = [...out.matchAll(/^Step (\d+)\/8 :/gm)].map((m) => Number(m[1]));
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.match(out, /stage-a\nstage-b\n/);
});

test('the API: quiet mode answers with the ID only; the history names every step as docker does', async () => {
  const dir = contextDir({ Dockerfile: 'FROM busybox\nENV X=1\nRUN echo quiet-step-output > /q\nCMD ["cat", "/q"]\n' });
  const tar = join(work, 'q.tar');
  execFileSync('tar', ['-cf', tar, '-C', dir, '.']);
  const res = await d.reqStream('POST', '/build?q=1&t=quiet:1', tar);
  assert.equal(res.status, 200);
  const msgs = res.body.toString().trim().split('\n').map((l) => JSON.parse(l) as { stream?: string; aux?: { ID: string } });
  const text = msgs.map((m) => m.stream ?? '').join('');
  assert.doesNotMatch(text, /quiet-step-output|Step/);
  const id = msgs.find((m) => m.aux)?.aux?.ID;
  assert.match(id ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal(text.trim(), id);

  const hist = JSON.parse(ok(d.tug(['history', '--no-trunc', '--format', '{{json .}}', 'quiet:1'])).trim().split('\n').map((l) => l).join(',').replace(/^/, '[').replace(/$/, ']')) as Array<{ CreatedBy: string; ID: string; Size: string }>;
  assert.match(hist[0].CreatedBy, /^\/bin\/sh -c #\(nop\) {2}CMD \["cat" "\/q"\]$/);
  assert.equal(hist[1].CreatedBy, '/bin/sh -c echo quiet-step-output > /q');
  assert.match(hist[2].CreatedBy, /#\(nop\) {2}ENV X=1$/);
  // local steps are images of their own: their IDs show, not <missing>
  assert.notEqual(hist[1].ID, '<missing>');
  assert.equal(hist[0].ID, id);
});

test('FROM pulls a missing base from a registry (and again with --pull); RUN gets --add-host and --network; several -t', async () => {
  const reg = new TestRegistry();
  await reg.start();
  try {
    const base = `${reg.host}/team/base:1`;
    ok(d.tug(['tag', 'busybox', base]));
    ok(await d.tugAsync(['push', base]));
    ok(d.tug(['rmi', base]));
    const dir = contextDir({
      Dockerfile: `FROM ${base}\nRUN grep -w buildhost /etc/hosts > /hosts-line; ip -o link | grep -c -v ' lo:' > /links || true\n`,
    });
    const first = ok(await d.tugAsync(['build', '--progress', 'plain', '--add-host', 'buildhost:10.9.8.7', '--network', 'none', '-t', 'pulled:1', '-t', 'pulled:2', dir]));
    assert.match(first, /Pulling from team\/base/);
    assert.match(first, /Successfully tagged pulled:1\nSuccessfully tagged pulled:2\n/);
    assert.equal(ok(d.tug(['run', '--rm', 'pulled:2', 'cat', '/hosts-line'])).trim().split(/\s+/).join(' '), '10.9.8.7 buildhost');
    // --network none: nothing but the loopback device
    assert.equal(ok(d.tug(['run', '--rm', 'pulled:1', 'cat', '/links'])).trim(), '0');
    const again = ok(await d.tugAsync(['build', '--progress', 'plain', '--pull', '--add-host', 'buildhost:10.9.8.7', '--network', 'none', '-t', 'pulled:1', dir]));
    assert.match(again, /Pulling from team\/base/);
    assert.match(again, /Using cache/);
  } finally {
    await reg.stop();
  }
});
