// Everyday container commands through tug and through the real docker CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestDaemon, REPO, eventually, sleep } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

test('tug run hello-world and --rm echo', () => {
  const hello = d.tug(['run', '--rm', 'hello-world']);
  assert.equal(hello.code, 0, hello.stderr);
  assert.match(hello.stdout, /tugboat/i);
  const r = d.tug(['run', '--rm', 'busybox', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(JSON.parse(d.tug(['ps', '-a', '--format', '{{json .}}']).stdout || 'null'), null, '--rm left nothing');
});

test('run flags: env, env-file, workdir, user, group-add, hostname, labels, entrypoint, init, stdin', async () => {
  const { writeFileSync } = await import('node:fs');
  const envFile = `${d.dir}/env.list`;
  writeFileSync(envFile, 'FROM_FILE=yes\n# comment\n');
  const r = d.tug(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', 'nobody', '-h', 'boat', 'busybox', 'sh', '-c', 'echo $A $FROM_FILE $(pwd) $(id -u) $(hostname)']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1 yes /tmp 65534 boat');
  // the environment docker gives: PATH, HOSTNAME, TERM with a terminal, HOME; an exec's TERM follows its own -t
  const envOf = (out: string) => out.trim().split(/\r?\n/);
  const plain = d.tug(['run', '-d', '--name', 'envy', 'busybox', 'sleep', '30']).stdout.trim();
  assert.deepEqual(envOf(d.tug(['exec', 'envy', 'env']).stdout), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${plain.slice(0, 12)}`, 'HOME=/root']);
  assert.ok(envOf(d.tug(['exec', '-t', 'envy', 'env']).stdout).includes('TERM=xterm'));
  assert.deepEqual(envOf(d.tug(['run', '--rm', '-t', '-h', 'boat', '-e', 'HOME=/h', 'busybox', 'env']).stdout), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=boat', 'TERM=xterm', 'HOME=/h']);
  assert.equal(d.tug(['rm', '-f', 'envy']).code, 0);
  // --group-add by ID and by name (busybox's /etc/group has wheel = 10), for the process and for exec -u
  const groups = d.tug(['run', '-d', '--name', 'grouped', '--group-add', '4321', '--group-add', 'wheel', '-u', 'nobody', 'busybox', 'sleep', '30']);
  assert.equal(groups.code, 0, groups.stderr);
  const groupsOf = (args: string[]) => d.tug(['exec', ...args, 'grouped', 'grep', 'Groups', '/proc/self/status']).stdout.replace('Groups:', '').trim().split(/\s+/).map(Number).sort((a, b) => a - b);
  assert.deepEqual(groupsOf([]), [10, 4321]);
  assert.deepEqual(groupsOf(['-u', 'root']), [10, 4321]);
  assert.match(d.docker(['run', '--rm', '--group-add', '4321', 'busybox', 'id']).stdout, /groups=.*4321/);
  const noGroup = d.tug(['run', '--rm', '--group-add', 'nosuch', 'busybox', 'true']);
  assert.equal(noGroup.code, 125);
  assert.match(noGroup.stderr, /Unable to find group nosuch/);
  assert.equal(d.tug(['rm', '-f', 'grouped']).code, 0);
  // limits and devices reach the process; --cidfile gets the ID and is not overwritten
  const cid = `${d.dir}/cid`;
  const lim = d.tug(['run', '--cidfile', cid, '--ulimit', 'nofile=1234:2345', '--oom-score-adj', '321', '--device', '/dev/null:/dev/mynull', 'busybox',
    'sh', '-c', 'ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; echo x > /dev/mynull && echo device-ok']);
  assert.equal(lim.code, 0, lim.stderr);
  assert.equal(lim.stdout, '1234\n2345\n321\ndevice-ok\n');
  const cidText = readFileSync(cid, 'utf8');
  assert.match(cidText, /^[0-9a-f]{64}$/);
  const again = d.tug(['run', '--rm', '--cidfile', cid, 'busybox', 'true']);
  assert.equal(again.code, 125);
  assert.match(again.stderr, /Container ID file found/);
  assert.equal(readFileSync(cid, 'utf8'), cidText);
  assert.equal(d.tug(['rm', cidText]).code, 0);
  const ep = d.tug(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']);
  assert.equal(ep.stdout, 'via entrypoint\n');
  const init = d.tug(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /docker-init/);
  const piped = d.tug(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], 'hello through stdin\n');
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'hello through stdin\ndone\n');
  const lbl = d.tug(['run', '-d', '-l', 'team=boats', '--name', 'labelled', 'busybox', 'sleep', '30']);
  assert.equal(lbl.code, 0, lbl.stderr);
  const f = d.tug(['ps', '-q', '--filter', 'label=team=boats']);
  assert.equal(f.stdout.trim(), lbl.stdout.trim().slice(0, 12));
  assert.equal(d.tug(['rm', '-f', 'labelled']).code, 0);
});

test('ps filters publish, expose (ports and ranges), volume (name or mount point) and is-task, as docker reads them', () => {
  const run = (name: string, ...flags: string[]) => { const r = d.tug(['create', '--name', name, ...flags, 'busybox', 'true']); assert.equal(r.code, 0, r.stderr); };
  run('pub', '-p', '127.0.0.1::80', '--expose', '53/udp');
  run('vol', '-v', 'psdata:/data');
  run('plain');
  try {
    const names = (filter: string) => d.tug(['ps', '-a', '--filter', filter, '--format', '{{.Names}}']).stdout.trim().split('\n').filter(Boolean).sort().join(' ');
    assert.equal(names('publish=80'), 'pub');
    assert.equal(names('publish=70-90/tcp'), 'pub');
    assert.equal(names('publish=80/udp'), '');
    assert.equal(names('expose=53/udp'), 'pub');
    assert.equal(names('expose=80'), 'pub', '-p exposes the port too');
    assert.equal(names('volume=psdata'), 'vol');
    assert.equal(names('volume=/data'), 'vol');
    assert.equal(names('is-task=false'), 'plain pub vol');
    assert.equal(names('is-task=true'), '');
    assert.equal(d.docker(['ps', '-a', '--filter', 'publish=80', '--format', '{{.Names}}']).stdout.trim(), 'pub');
    const bad = d.tug(['ps', '--filter', 'publish=http']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'publish=http'/);
  } finally {
    d.tug(['rm', '-v', 'pub', 'vol', 'plain']);
    d.tug(['volume', 'rm', 'psdata']);
  }
});

test('-e NAME with NAME unset where the client runs leaves NAME unset in the container, for run and exec, tug and docker', () => {
  assert.equal(process.env.TUG_NOT_SET, undefined);
  const probe = ['sh', '-c', 'echo ${TUG_NOT_SET-unset} ${FROM_IMAGE-unset}'];
  for (const cli of [d.tug.bind(d), d.docker.bind(d)]) {
    const r = cli(['run', '--rm', '-e', 'TUG_NOT_SET', '-e', 'FROM_IMAGE', 'busybox', ...probe]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'unset unset');
  }
  const id = d.tug(['run', '-d', '-e', 'FROM_IMAGE=set', 'busybox', 'sleep', '100']).stdout.trim();
  try {
    assert.equal(d.tug(['exec', id, ...probe]).stdout.trim(), 'unset set');
    const r = d.tug(['exec', '-e', 'TUG_NOT_SET', '-e', 'FROM_IMAGE', id, ...probe]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'unset unset', 'an exec can unset what the container sets');
  } finally { d.tug(['rm', '-f', id]); }
});

test('exit codes: process code, 125 daemon errors, 126 not executable, 127 not found', () => {
  assert.equal(d.tug(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).code, 3);
  const nf = d.tug(['run', '--rm', 'busybox', 'no-such-binary']);
  assert.equal(nf.code, 127, nf.stderr);
  const ne = d.tug(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(ne.code, 126, ne.stderr);
  const noimg = d.tug(['run', '--rm', 'nosuchimage']);
  assert.equal(noimg.code, 125);
  const badflag = d.tug(['run', '--no-such-flag', 'busybox']);
  assert.equal(badflag.code, 125);
  const badmem = d.tug(['run', '-m', 'lots', 'busybox', 'true']);
  assert.equal(badmem.code, 125);
  assert.match(badmem.stderr, /invalid/i);
});

test('detached lifecycle: ps, logs, top, stop, start, restart, pause, rename, wait, inspect, rm', async () => {
  const id = d.tug(['run', '-d', '--name', 'web1', 'busybox', 'sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done']).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = d.tug(['ps']);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
  assert.match(ps.stdout, /web1/);
  assert.match(ps.stdout, /Up /);
  await eventually(() => d.tug(['logs', 'web1']).stdout, (s) => s.includes('line 3'));
  const tail = d.tug(['logs', '--tail', '2', 'web1']).stdout.trim().split('\n');
  assert.equal(tail.length, 2);
  const ts = d.tug(['logs', '-t', '--tail', '1', 'web1']).stdout;
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+/);
  const top = d.tug(['top', 'web1']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /PID/);
  assert.match(top.stdout, /sh -c/);
  const pid = d.tug(['inspect', '-f', '{{.State.Pid}}', 'web1']).stdout.trim();
  assert.ok(Number(pid) > 1);
  assert.equal(d.tug(['pause', 'web1']).code, 0);
  assert.match(d.tug(['ps']).stdout, /\(Paused\)/);
  assert.equal(d.tug(['unpause', 'web1']).code, 0);
  assert.equal(d.tug(['rename', 'web1', 'web2']).code, 0);
  assert.equal(d.tug(['inspect', '-f', '{{.Name}}', 'web2']).stdout.trim(), '/web2');
  const t0 = Date.now();
  assert.equal(d.tug(['stop', '-t', '1', 'web2']).code, 0);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(d.tug(['inspect', '-f', '{{.State.Status}}', 'web2']).stdout.trim(), 'exited');
  assert.match(d.tug(['ps', '-a']).stdout, /Exited \(1?\d+\)/);
  assert.equal(d.tug(['start', 'web2']).code, 0);
  assert.equal(d.tug(['restart', '-t', '1', 'web2']).code, 0);
  assert.equal(d.tug(['inspect', '-f', '{{.State.Running}}', 'web2']).stdout.trim(), 'true');
  assert.equal(d.tug(['kill', 'web2']).code, 0);
  assert.equal(d.tug(['wait', 'web2']).stdout.trim(), '137');
  assert.equal(d.tug(['rm', 'web2']).code, 0);
  assert.equal(d.tug(['inspect', 'web2']).code, 1);
});

test('logs -f follows until the container exits', () => {
  const id = d.tug(['run', '-d', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.2; done']).stdout.trim();
  const f = d.tug(['logs', '-f', id]);
  assert.equal(f.stdout, 'n1\nn2\nn3\n');
  assert.equal(d.tug(['rm', id]).code, 0);
});

test('a reader that closes the pipe (logs -f | head -1) ends tug quietly with status 0', async () => {
  const { spawnSync } = await import('node:child_process');
  const id = d.tug(['run', '-d', 'busybox', 'sh', '-c', 'while true; do echo line; done']).stdout.trim();
  // tug's own status, not head's: the shell reports it through PIPESTATUS
  const r = spawnSync('bash', ['-c', `"$0" "$1" -H "$2" logs -f "$3" | head -1; echo "status=\${PIPESTATUS[0]}" >&2`, process.execPath, `${REPO}/dist/tug.js`, d.host, id], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.stdout, 'line\n');
  assert.match(r.stderr, /^status=0\n$/, r.stderr);
  assert.equal(d.tug(['rm', '-f', id]).code, 0);
});

test('logs rotate at max-size and keep max-file files; -f follows across rotation', async () => {
  const { spawn } = await import('node:child_process');
  const { readdirSync, statSync } = await import('node:fs');
  const script = 'sleep 1; b=0; while [ $b -lt 30 ]; do i=0; while [ $i -lt 100 ]; do echo "record $((b*100+i)) ........................................"; i=$((i+1)); done; b=$((b+1)); sleep 0.05; done';
  const id = d.tug(['run', '-d', '--log-opt', 'max-size=20k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script]).stdout.trim();
  const follower = spawn(process.execPath, [`${REPO}/dist/tug.js`, '-H', d.host, 'logs', '-f', id]);
  let followed = '';
  follower.stdout.on('data', (b: Buffer) => { followed += b.toString(); });
  const done = new Promise((r) => follower.on('exit', r));
  assert.equal(d.tug(['wait', id]).stdout.trim(), '0');
  await done;
  const seen = followed.trim().split('\n').map((l) => Number(/record (\d+)/.exec(l)?.[1]));
  assert.deepEqual(seen, Array.from({ length: 3000 }, (_, i) => i), 'logs -f saw every line once, in order');
  const dir = `${d.root}/containers/${id}`;
  const logs = readdirSync(dir).filter((f) => f.startsWith('container.log'));
  assert.ok(logs.length <= 2, `at most max-file files: ${logs}`);
  for (const f of logs) assert.ok(statSync(`${dir}/${f}`).size < 64 * 1024, `${f} is bounded`);
  const out = d.tug(['logs', id]).stdout.trim().split('\n');
  assert.match(out[out.length - 1], /record 2999 /);
  assert.ok(out.length < 3000, 'old records were rotated away');
  d.tug(['rm', id]);
});

test('restart policies: on-failure:2 retries twice, always comes back', async () => {
  const id = d.tug(['run', '-d', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 5']).stdout.trim();
  const rc = await eventually(() => Number(d.tug(['inspect', '-f', '{{.RestartCount}}', id]).stdout.trim()), (n) => n === 2);
  assert.equal(rc, 2);
  await sleep(1500);
  assert.equal(d.tug(['inspect', '-f', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', id]).stdout.trim(), '2 exited 5');
  d.tug(['rm', '-f', id]);
});

test('container prune removes stopped containers only', () => {
  const stopped = d.tug(['create', 'busybox', 'true']).stdout.trim();
  const running = d.tug(['run', '-d', 'busybox', 'sleep', '60']).stdout.trim();
  const p = d.tug(['container', 'prune', '-f']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(stopped));
  assert.equal(d.tug(['inspect', stopped]).code, 1);
  assert.equal(d.tug(['inspect', '-f', '{{.State.Running}}', running]).stdout.trim(), 'true');
  d.tug(['rm', '-f', running]);
});

test('the real docker CLI drives tugd', async () => {
  const hi = d.docker(['run', '--rm', 'busybox', 'echo', 'hi']);
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(hi.stdout, 'hi\n');
  const run = d.docker(['run', '-d', '--name', 'dweb', 'busybox', 'sh', '-c', 'echo started; sleep 1000']);
  assert.equal(run.code, 0, run.stderr);
  const ps = d.docker(['ps']);
  assert.match(ps.stdout, /dweb/);
  assert.match(ps.stdout, /Up /);
  await eventually(() => d.docker(['logs', 'dweb']).stdout, (s) => s === 'started\n');
  const pid = d.docker(['inspect', '-f', '{{.State.Pid}}', 'dweb']);
  assert.equal(pid.code, 0, pid.stderr);
  assert.ok(Number(pid.stdout.trim()) > 1);
  const top = d.docker(['top', 'dweb']);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /sleep 1000/);
  const stop = d.docker(['stop', '-t', '1', 'dweb']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(d.docker(['rm', '-f', 'dweb']).code, 0);
  const exit = d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 4']);
  assert.equal(exit.code, 4);
  const missing = d.docker(['stop', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nope/);
  const piped = d.docker(['run', '--rm', '-i', 'busybox', 'cat'], 'piped via docker\n');
  assert.equal(piped.stdout, 'piped via docker\n');
  const images = d.docker(['images']);
  assert.match(images.stdout, /busybox\s+latest/);
});

test('--format templates print what the docker CLI prints against the same daemon', () => {
  const id = d.tug(['run', '-d', '--name', 'fmtc', '-l', 'tier=<web>', '-p', '8080', 'busybox', 'sleep', '1000']).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  try {
    const same = (args: string[]) => {
      const mine = d.tug(args);
      const theirs = d.docker(args);
      assert.equal(theirs.code, 0, `docker ${args.join(' ')}: ${theirs.stderr}`);
      assert.equal(mine.stdout, theirs.stdout, `tug ${args.join(' ')}`);
    };
    same(['ps', '--filter', 'name=fmtc', '--format', '{{json .}}']); // sorted keys, <>& escaped, sizes asked for
    same(['ps', '--filter', 'name=fmtc', '--format', 'json']);
    same(['images', '--format', '{{json .}}']);
    same(['history', '--format', '{{json .}}', 'busybox']); // RFC 3339 times here
    same(['history', '--human=false', '--format', '{{.CreatedSince}} {{.Size}}', 'busybox']);
    same(['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}']);
    same(['stats', '--no-stream', '--format', '{{.Container}} {{.Name}} {{.PIDs}}', 'fmtc']); // the name as given
    same(['stats', '--no-stream', '--format', '{{.Container}} {{.Name}}']);
    same(['inspect', '--format', '{{json .Config.Labels}} {{index .Config.Labels "tier"}}', 'fmtc']); // not escaped
    assert.equal(d.tug(['volume', 'create', 'vfmt']).code, 0);
    same(['volume', 'inspect', 'vfmt']); // docker's field order
    const cacheSection = (s: string) => s.slice(s.indexOf('Build cache usage'));
    assert.equal(cacheSection(d.tug(['system', 'df', '-v']).stdout), cacheSection(d.docker(['system', 'df', '-v']).stdout));
  } finally {
    d.tug(['rm', '-f', 'fmtc']);
    d.tug(['volume', 'rm', 'vfmt']);
  }
});
