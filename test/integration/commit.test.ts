// docker diff / commit / export: a container's changes read from its overlay upper dir, committed as a new
// layer (whiteouts, opaque dirs, hard links, xattrs), the pause around a running container's commit, export
// piped into import, the docker CLI against tugd, and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { TestDaemon, DOCKER, REPO } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const TUG = join(REPO, 'dist/tug.js');

/** Names and types of a tar's entries. */
async function tarEntries(tar: Buffer): Promise<Map<string, { type: string; linkname?: string | null; body: string }>> {
  const out = new Map<string, { type: string; linkname?: string | null; body: string }>();
  const ex = extract();
  const reading = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.set(e.header.name, { type: e.header.type ?? 'file', linkname: e.header.linkname, body: Buffer.concat(chunks).toString() });
    }
  })();
  Readable.from([tar]).pipe(ex);
  await reading;
  return out;
}

/** The committed layer as stored in the blob store (the image's top diff ID). */
function topLayer(image: string): Buffer {
  const [info] = JSON.parse(ok(d.tug(['image', 'inspect', image]))) as Array<{ RootFS: { Layers: string[] } }>;
  const diffId = info.RootFS.Layers.at(-1)!;
  return readFileSync(join(d.root, 'content/blobs/sha256', diffId.replace('sha256:', '')));
}

const upperOf = (name: string) => join(d.root, 'containers', ok(d.tug(['inspect', '-f', '{{.Id}}', name])).trim(), 'diff');

test('seed scenario: add, change and delete files, commit with a message and author, run the new image', async () => {
  ok(d.tug(['run', '--name', 'seed', 'busybox', 'sh', '-c', 'echo hello > /hello.txt; echo "extra:x:1000:1000::/:/bin/sh" >> /etc/passwd; rm /bin/vi']));
  const id = ok(d.tug(['commit', '-m', 'added hello', '-a', 'Tug Tester <t@example.com>', 'seed', 'seed/img:v1'])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const run = ok(d.tug(['run', '--rm', 'seed/img:v1', 'sh', '-c', 'cat /hello.txt; grep -c extra /etc/passwd; test -e /bin/vi && echo vi-present || echo vi-gone']));
  assert.equal(run, 'hello\n1\nvi-gone\n');

  const [img] = JSON.parse(ok(d.tug(['image', 'inspect', 'seed/img:v1']))) as Array<Record<string, unknown> & { Config: { Cmd: string[] }; RootFS: { Layers: string[] }; Id: string; Parent: string }>;
  assert.equal(img.Id, id);
  assert.equal(img.Author, 'Tug Tester <t@example.com>');
  assert.equal(img.Comment, 'added hello');
  assert.deepEqual(img.Config.Cmd, ['sh', '-c', 'echo hello > /hello.txt; echo "extra:x:1000:1000::/:/bin/sh" >> /etc/passwd; rm /bin/vi']);
  assert.equal(img.RootFS.Layers.length, 2, 'busybox layer + the commit');
  const busybox = JSON.parse(ok(d.tug(['image', 'inspect', 'busybox'])))[0] as { Id: string };
  assert.equal(img.Parent, busybox.Id);
  // inspect names the container the image came from, and its config then (API < 1.45, as docker shows it)
  assert.equal(img.Container, ok(d.tug(['inspect', '-f', '{{.Id}}', 'seed'])).trim());
  assert.deepEqual((img.ContainerConfig as { Cmd: string[] }).Cmd, img.Config.Cmd);

  const hist = ok(d.tug(['history', '--no-trunc', 'seed/img:v1'])).split('\n');
  assert.match(hist[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.ok(hist[1].startsWith(id) && hist[1].includes('added hello') && hist[1].includes('sh -c echo hello > /hello.txt'), hist[1]);
  // the base layer is a local image of its own: docker names it by its ID, as here
  assert.match(hist[2], new RegExp(`^${busybox.Id}\\s.*Imported from -$`));

  // the layer: the new file, the changed one, a whiteout for the deletion; no mount stubs (/etc/hosts…)
  const layer = await tarEntries(topLayer('seed/img:v1'));
  assert.deepEqual([...layer.keys()].sort(), ['bin/', 'bin/.wh.vi', 'etc/', 'etc/passwd', 'hello.txt']);
  assert.equal(layer.get('hello.txt')!.body, 'hello\n');
  ok(d.tug(['rm', 'seed']));
});

test('diff lists A, C and D like docker, parents of additions and deletions as C', async () => {
  ok(d.tug(['run', '--name', 'difs', 'busybox', 'sh', '-c', 'mkdir -p /tmp/a/b && echo 1 > /tmp/a/b/f; echo x >> /etc/group; rm /bin/ls; rm -rf /var; mkdir -p /var/fresh']));
  const lines = ok(d.tug(['diff', 'difs'])).trim().split('\n');
  for (const l of ['C /bin', 'D /bin/ls', 'C /etc/group', 'C /tmp', 'A /tmp/a', 'A /tmp/a/b', 'A /tmp/a/b/f', 'C /var', 'A /var/fresh']) assert.ok(lines.includes(l), `${l} in\n${lines.join('\n')}`);
  // the mount points runc made (/etc/hosts, hostname, resolv.conf) are not the container's changes
  assert.ok(!lines.some((l) => /\/etc\/(hosts|hostname|resolv\.conf)$/.test(l)), lines.join('\n'));
  assert.ok(!lines.includes('C /etc'), 'a copy-up alone is no change of the directory');
  assert.deepEqual(lines, [...lines].sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1)), 'in path order');
  // the docker CLI reads the same answer
  assert.deepEqual(ok(d.docker(['diff', 'difs'])).trim().split('\n'), lines);
  // a fresh container changed nothing
  ok(d.tug(['create', '--name', 'fresh', 'busybox']));
  assert.equal(ok(d.tug(['diff', 'fresh'])), '');
  ok(d.tug(['run', '--name', 'ran', 'busybox', 'true']));
  assert.equal(ok(d.tug(['diff', 'ran'])), '');

  // an opaque directory (rm -rf /var; mkdir /var) replaces the lower one in the committed image
  ok(d.tug(['commit', 'difs', 'difs:1']));
  assert.equal(ok(d.tug(['run', '--rm', 'difs:1', 'busybox', 'ls', '-A', '/var'])), 'fresh\n');
  const layer = await tarEntries(topLayer('difs:1'));
  assert.ok(layer.has('var/.wh..wh..opq'), [...layer.keys()].join(' '));
  // nothing changed: no new layer, an empty_layer history entry
  const empty = ok(d.tug(['commit', 'ran'])).trim();
  const [info] = JSON.parse(ok(d.tug(['image', 'inspect', empty]))) as Array<{ RootFS: { Layers: string[] } }>;
  assert.equal(info.RootFS.Layers.length, 1);
  ok(d.tug(['rm', 'difs', 'fresh', 'ran']));
  ok(d.tug(['rmi', 'difs:1', empty]));
});

test('commit -c applies Dockerfile instructions; hard links and xattrs stay in the layer', async () => {
  ok(d.tug(['run', '--name', 'chg', 'busybox', 'sh', '-c', 'echo linked > /a; ln /a /b; echo cap > /capfile']));
  // a file capability, set from the host on the upper dir (busybox has no setcap): cap_net_raw, effective
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2]))', join(upperOf('chg'), 'capfile'), cap.toString('hex')]);
  ok(d.tug(['commit', '-c', 'CMD ["cat", "/a"]', '-c', 'ENV GREETING=hi', '-c', 'LABEL stage=test', '-c', 'WORKDIR /tmp', '-c', 'EXPOSE 8080', 'chg', 'chg:1']));
  assert.equal(ok(d.tug(['run', '--rm', 'chg:1'])), 'linked\n');
  assert.equal(ok(d.tug(['run', '--rm', 'chg:1', 'sh', '-c', 'echo $GREETING $(pwd); stat -c %h /a; [ $(stat -c %i /a) = $(stat -c %i /b) ] && echo same'])), 'hi /tmp\n2\nsame\n');
  const [img] = JSON.parse(ok(d.tug(['image', 'inspect', 'chg:1']))) as Array<{ Config: { Labels: Record<string, string>; ExposedPorts: Record<string, object>; Cmd: string[] } }>;
  assert.equal(img.Config.Labels.stage, 'test');
  assert.ok('8080/tcp' in img.Config.ExposedPorts);
  const raw = topLayer('chg:1');
  const layer = await tarEntries(raw);
  assert.equal(layer.get('b')!.type, 'link');
  assert.equal(layer.get('b')!.linkname, 'a');
  // the binary value is in the PAX header byte for byte
  assert.ok(raw.includes(Buffer.concat([Buffer.from('SCHILY.xattr.security.capability='), cap, Buffer.from('\n')])), 'security.capability in the layer');
  // shell form, and a bad instruction refused before anything is written
  ok(d.tug(['commit', '-c', 'CMD echo shell form', 'chg', 'chg:2']));
  assert.equal(ok(d.tug(['run', '--rm', 'chg:2'])), 'shell form\n');
  const bad = d.tug(['commit', '-c', 'RUN echo no', 'chg']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /RUN is not a valid change command/);
  ok(d.tug(['rm', 'chg']));
  ok(d.tug(['rmi', 'chg:1', 'chg:2']));
});

test('a running container is paused while committed, then runs on', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  ok(d.tug(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo state > /state; while true; do sleep 1; done']));
  const id = ok(d.tug(['inspect', '-f', '{{.Id}}', 'live'])).trim();
  // wait for the file
  for (let i = 0; i < 50 && !ok(d.tug(['diff', 'live'])).includes('A /state'); i++) await new Promise((r) => setTimeout(r, 100));
  const image = ok(d.tug(['commit', 'live', 'live:1'])).trim();
  assert.equal(ok(d.tug(['inspect', '-f', '{{.State.Status}}', 'live'])).trim(), 'running');
  assert.equal(ok(d.tug(['run', '--rm', 'live:1', 'cat', '/state'])), 'state\n');
  const until = Math.floor(Date.now() / 1000) + 1;
  const res = await d.req('GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`);
  const actions = res.body.toString().trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } });
  const names = actions.map((a) => a.Action);
  const p = names.indexOf('pause');
  assert.ok(p >= 0 && names.indexOf('commit') > p && names.indexOf('unpause') > p, names.join(' '));
  const commit = actions.find((a) => a.Action === 'commit')!;
  assert.equal(commit.Actor.Attributes.imageID, image);
  assert.equal(commit.Actor.Attributes.imageRef, 'live:1');
  // --pause=false leaves it running throughout
  const before = names.filter((n) => n === 'pause').length;
  ok(d.tug(['commit', '--pause=false', 'live', 'live:2']));
  const res2 = await d.req('GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ container: [id], event: ['pause'] }))}`);
  assert.equal(res2.body.toString().trim().split('\n').filter(Boolean).length, before);
  ok(d.tug(['rm', '-f', 'live']));
  ok(d.tug(['rmi', 'live:1', 'live:2']));
});

test('export | import round trip, running and stopped, without the engine\'s mounts', async () => {
  ok(d.tug(['run', '--name', 'exp', 'busybox', 'sh', '-c', 'echo exported > /data.txt; rm /bin/cat']));
  const tar = spawnSync(process.execPath, [TUG, '-H', d.host, 'export', 'exp'], { maxBuffer: 64 << 20 });
  assert.equal(tar.status, 0, tar.stderr.toString());
  const entries = await tarEntries(tar.stdout);
  assert.equal(entries.get('data.txt')!.body, 'exported\n');
  assert.ok(!entries.has('bin/cat') && entries.has('bin/busybox'));
  assert.equal(entries.get('etc/hosts')?.body ?? '', '', 'the bind-mounted /etc/hosts content is not the container\'s');
  const imported = execFileSync('sh', ['-c', `node ${TUG} -H ${d.host} export exp | node ${TUG} -H ${d.host} import - exp:round`]).toString();
  assert.match(imported, /^sha256:[0-9a-f]{64}$/m);
  assert.equal(ok(d.tug(['run', '--rm', 'exp:round', 'sh', '-c', 'cat /data.txt; ls /bin/cat 2>&1 || true'])), 'exported\nls: /bin/cat: No such file or directory\n');
  // -o writes a file; a running container exports its live view
  ok(d.tug(['run', '-d', '--name', 'exprun', 'busybox', 'sh', '-c', 'echo running > /live; sleep 1000']));
  for (let i = 0; i < 50 && !ok(d.tug(['diff', 'exprun'])).includes('A /live'); i++) await new Promise((r) => setTimeout(r, 100));
  const file = join(d.dir, 'exprun.tar');
  ok(d.tug(['export', '-o', file, 'exprun']));
  assert.equal((await tarEntries(readFileSync(file))).get('live')!.body, 'running\n');
  // our mounts are gone afterwards (released as the stream closes, just after the client has it all)
  for (let i = 0; i < 50 && readdirSync(join(d.root, 'mnt')).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(readdirSync(join(d.root, 'mnt')), ['.empty']);
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(d.root, 'mnt')), 'nothing mounted under mnt/');
  // refused to a terminal, like docker
  const tty = spawnSync('script', ['-qec', `node ${TUG} -H ${d.host} export exp`, '/dev/null'], { encoding: 'utf8' });
  assert.match(tty.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
  ok(d.tug(['rm', '-f', 'exp', 'exprun']));
  ok(d.tug(['rmi', 'exp:round']));
});

test('the docker CLI: commit, diff, export | import', async () => {
  ok(d.docker(['run', '--name', 'dck', 'busybox', 'sh', '-c', 'echo from-docker > /d.txt']));
  assert.equal(ok(d.docker(['diff', 'dck'])), 'A /d.txt\n');
  const id = ok(d.docker(['commit', '-m', 'via docker', '-a', 'Docker User', '-c', 'CMD ["cat", "/d.txt"]', 'dck', 'dck:1'])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(d.docker(['run', '--rm', 'dck:1'])), 'from-docker\n');
  assert.equal(ok(d.docker(['inspect', '-f', '{{.Author}}', 'dck:1'])).trim(), 'Docker User');
  assert.match(ok(d.docker(['history', 'dck:1'])), /via docker/);
  const out = execFileSync('sh', ['-c', `${DOCKER} export dck | ${DOCKER} import - dck:round`], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') } }).toString();
  assert.match(out, /^sha256:/);
  assert.equal(ok(d.docker(['run', '--rm', 'dck:round', 'cat', '/d.txt'])), 'from-docker\n');
  ok(d.docker(['rm', 'dck']));
  ok(d.docker(['rmi', 'dck:1', 'dck:round']));
});

test('bad input: missing container 404, bad repository name 400; a config in the body', async () => {
  const missing = await d.req('POST', '/commit?container=no-such-thing');
  assert.equal(missing.status, 404);
  assert.match(missing.json<{ message: string }>().message, /No such container: no-such-thing/);
  assert.equal((await d.req('GET', '/containers/no-such-thing/changes')).status, 404);
  assert.equal((await d.req('GET', '/containers/no-such-thing/export')).status, 404);
  ok(d.tug(['create', '--name', 'badin', 'busybox']));
  const badRepo = await d.req('POST', '/commit?container=badin&repo=Bad%20Name');
  assert.equal(badRepo.status, 400);
  assert.match(badRepo.json<{ message: string }>().message, /invalid reference format/);
  assert.equal((await d.req('POST', `/commit?container=badin&repo=x&tag=${encodeURIComponent('bad tag')}`)).status, 400);
  assert.equal((await d.req('POST', '/commit?container=badin&repo=x@sha256:' + 'a'.repeat(64))).status, 400);
  const cli = d.tug(['commit', 'no-such-thing']);
  assert.equal(cli.code, 1);
  assert.equal(cli.stderr, 'Error response from daemon: No such container: no-such-thing\n');
  const cliRef = d.tug(['commit', 'badin', 'UPPER:case']);
  assert.equal(cliRef.code, 1);
  assert.match(cliRef.stderr, /invalid reference format: repository name \(library\/UPPER\) must be lowercase/);
  // a body with a config replaces the container's fields; the rest comes from the container
  const res = await d.req('POST', '/commit?container=badin&repo=bodycfg', { Cmd: ['echo', 'from-body'], Env: ['X=1'] });
  assert.equal(res.status, 201);
  assert.equal(ok(d.tug(['run', '--rm', 'bodycfg', 'sh', '-c', 'echo $X'])), '1\n');
  assert.equal(ok(d.tug(['run', '--rm', 'bodycfg'])), 'from-body\n');
  ok(d.tug(['rm', 'badin']));
  ok(d.tug(['rmi', 'bodycfg']));
});
