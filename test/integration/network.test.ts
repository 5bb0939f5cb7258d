// The default bridge network: published ports from the host (loopback and its own address), random ports,
// container to container, outbound NAT, host and none modes, port conflicts, and nothing left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, REPO, eventually } from '../helpers/daemon.ts';
import { rootfsWithHostPrograms } from '../helpers/hostbin.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const hostIp = () => Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('10.1'))!.address;
const web = (name: string, publish: string[]) => ok(d.tug(['run', '-d', '--name', name, ...publish.flatMap((p) => ['-p', p]), 'busybox', 'sh', '-c', `mkdir -p /www && echo hello-${name} > /www/index.html && exec httpd -f -p 80 -h /www`])).trim();
const get = async (url: string) => { const r = await fetch(url, { signal: AbortSignal.timeout(3000) }); return r.text(); };
const iptablesMentions = (id: string) => ['filter', 'nat'].map((t) => execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' })).join('').split('\n').filter((l) => l.includes(id)).length;

test('run -d -p 3344:80: reachable on 127.0.0.1 and the host address; port, ps and inspect show it', async () => {
  const id = web('web1', ['3344:80']);
  await eventually(() => get('http://127.0.0.1:3344/').catch(() => ''), (t) => t === 'hello-web1\n');
  assert.equal(await get(`http://${hostIp()}:3344/`), 'hello-web1\n');
  assert.equal(ok(d.tug(['port', 'web1'])), '80/tcp -> 0.0.0.0:3344\n');
  assert.equal(ok(d.docker(['port', 'web1', '80'])).trim(), '0.0.0.0:3344');
  assert.match(ok(d.tug(['ps', '--filter', 'name=web1'])), /0\.0\.0\.0:3344->80\/tcp/);
  const ns = JSON.parse(ok(d.tug(['inspect', 'web1'])))[0].NetworkSettings;
  assert.match(ns.IPAddress, /^10\.\d+\.\d+\.\d+$/);
  assert.deepEqual(ns.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: '3344' }]);
  assert.equal(ns.Networks.bridge.IPAddress, ns.IPAddress);
  assert.ok(iptablesMentions(id) > 0, 'NAT and port rules are in place');

  // another container reaches it by address, and the hosts file names the container's own address
  const other = ok(d.tug(['run', '--rm', 'busybox', 'sh', '-c', `(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 1) | nc -w 3 ${ns.IPAddress} 80; grep -c "$(hostname)" /etc/hosts`]));
  assert.match(other, /hello-web1/);

  ok(d.tug(['rm', '-f', 'web1']));
  assert.equal(iptablesMentions(id), 0, 'its rules are gone with it');
  assert.ok(!existsSync(`/run/netns/tug-${id.slice(0, 16)}`), 'its namespace is gone');
  await assert.rejects(get('http://127.0.0.1:3344/'));
});

test('-p 80 picks a free host port; -P publishes every exposed port; a taken port is a clear error at start', async () => {
  web('web2', ['80']);
  const port = /0\.0\.0\.0:(\d+)/.exec(ok(d.tug(['port', 'web2', '80/tcp'])))![1];
  assert.ok(Number(port) >= 32768);
  await eventually(() => get(`http://127.0.0.1:${port}/`).catch(() => ''), (t) => t === 'hello-web2\n');

  ok(d.tug(['run', '-d', '--name', 'web3', '--expose', '80', '-P', 'busybox', 'sh', '-c', 'mkdir -p /w && echo p > /w/index.html && exec httpd -f -p 80 -h /w']));
  assert.match(ok(d.tug(['port', 'web3'])), /^80\/tcp -> 0\.0\.0\.0:\d+\n$/);

  web('web4', ['3345:80']);
  const clash = d.tug(['run', '-d', '--name', 'web5', '-p', '3345:80', 'busybox', 'sleep', '100']);
  assert.equal(clash.code, 125);
  assert.match(clash.stderr, /Bind for 0\.0\.0\.0:3345 failed: port is already allocated/);
  assert.equal(JSON.parse(ok(d.tug(['inspect', 'web5'])))[0].State.Status, 'created');

  // a port some host program listens on
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(3346, '0.0.0.0', r));
  try {
    const busy = d.tug(['run', '-d', '--name', 'web6', '-p', '3346:80', 'busybox', 'sleep', '100']);
    assert.equal(busy.code, 125);
    assert.match(busy.stderr, /port is already allocated/);
  } finally {
    srv.close();
  }
  ok(d.tug(['rm', '-f', 'web2', 'web3', 'web4', 'web5', 'web6']));
});

test('-p 127.0.0.1:P:80 answers on loopback only; containers reach published ports through the host address (hairpin)', async () => {
  web('local1', ['127.0.0.1:3370:80']);
  await eventually(() => get('http://127.0.0.1:3370/').catch(() => ''), (t) => t === 'hello-local1\n');
  assert.equal(await get('http://127.0.0.1:3370/'), 'hello-local1\n');
  await assert.rejects(get(`http://${hostIp()}:3370/`), 'not on the host\'s other addresses');
  assert.equal(ok(d.tug(['port', 'local1'])), '80/tcp -> 127.0.0.1:3370\n');

  web('pub1', ['3371:80']);
  await eventually(() => get('http://127.0.0.1:3371/').catch(() => ''), (t) => t === 'hello-pub1\n');
  // nc's input stays open a moment: busybox nc may stop reading once its input ends, before the body arrives
  const viaHost = `(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 1) | nc -w 3 ${hostIp()} 3371`;
  assert.match(ok(d.tug(['run', '--rm', 'busybox', 'sh', '-c', viaHost])), /hello-pub1/, 'from another container');
  assert.match(ok(d.tug(['exec', 'pub1', 'sh', '-c', viaHost])), /hello-pub1/, 'from the publishing container itself');
  ok(d.tug(['rm', '-f', 'local1', 'pub1']));
});

test('UDP through a published port; a published port range', () => {
  // busybox has no UDP server: an image with the host's iperf3 (control over TCP, data over UDP, same port number)
  const tar = join(d.dir, 'iperf3.tar');
  rootfsWithHostPrograms(join(d.dir, 'busybox.tar'), ['iperf3'], d.dir, tar);
  ok(d.tug(['import', tar, 'iperf3:test']));
  ok(d.tug(['run', '-d', '--name', 'udp1', '-p', '3360:5201', '-p', '3360:5201/udp', 'iperf3:test', 'iperf3', '-s']));
  assert.match(ok(d.tug(['port', 'udp1'])), /5201\/udp -> 0\.0\.0\.0:3360/);
  const run = () => spawnSync('iperf3', ['-c', '127.0.0.1', '-p', '3360', '-u', '-b', '5M', '-t', '1', '-J'], { encoding: 'utf8', timeout: 20000 });
  let r = run();
  for (let i = 0; i < 20 && r.status !== 0; i++) { spawnSync('sleep', ['0.2']); r = run(); } // the server may not listen yet
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const sum = (JSON.parse(r.stdout) as { end: { sum: { packets: number; lost_percent: number } } }).end.sum;
  assert.ok(sum.packets > 100, `datagrams sent: ${sum.packets}`);
  assert.ok(sum.lost_percent < 50, `the server received them: ${sum.lost_percent}% lost`);

  ok(d.tug(['run', '-d', '--name', 'ranged', '-p', '3361-3362:8080-8081', 'busybox', 'sleep', '1000']));
  assert.equal(ok(d.tug(['port', 'ranged'])), '8080/tcp -> 0.0.0.0:3361\n8081/tcp -> 0.0.0.0:3362\n');
  ok(d.tug(['rm', '-f', 'udp1', 'ranged']));
  ok(d.tug(['rmi', 'iperf3:test']));
});

test('outbound NAT reaches the Debian mirror; --network none has loopback only; --network host sees the host', async () => {
  const mirror = spawnSync('getent', ['ahostsv4', 'deb.debian.org'], { encoding: 'utf8' }).stdout.split(/\s+/)[0];
  assert.ok(mirror, 'the host resolves the mirror');
  // the mirror is a remote service shared by parallel tests: a refused attempt is retried, a broken NAT never succeeds
  // (busybox nc may quit at the end of its input before the answer: the input stays open a while)
  const fetchHead = () => d.tug(['run', '--rm', 'busybox', 'sh', '-c', `(printf 'GET /debian/ HTTP/1.0\\r\\nHost: deb.debian.org\\r\\n\\r\\n'; sleep 2) | nc -w 5 ${mirror} 80 | head -1`]).stdout;
  const out = await eventually(fetchHead, (o) => /^HTTP\/1\.[01] \d{3}/.test(o), 30000);
  assert.match(out, /^HTTP\/1\.[01] \d{3}/);
  assert.equal(ok(d.tug(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net'])).trim(), 'lo');
  assert.match(ok(d.tug(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net'])), new RegExp(d.bridge));
  const bad = d.tug(['run', '--rm', '--network', 'none', '-p', '80:80', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /published ports need a network/);
  const badPort = d.tug(['run', '--rm', '-p', '99999:80', 'busybox', 'true']);
  assert.notEqual(badPort.code, 0);
});

test('as with docker, any user may bind a port below 1024 in the container\'s own network; the host\'s setting is untouched', () => {
  const out = ok(d.tug(['run', '--rm', '-u', '1000:1000', 'busybox', 'sh', '-c', 'timeout 1 nc -l -p 80 2>&1; cat /proc/sys/net/ipv4/ip_unprivileged_port_start']));
  assert.doesNotMatch(out, /bind|denied/i, out);
  assert.equal(out.trim().split('\n').pop(), '0');
  // the user's --sysctl wins, on the network's (pre-made) namespace too
  const own = ok(d.tug(['run', '--rm', '-u', '1000:1000', '--sysctl', 'net.ipv4.ip_unprivileged_port_start=1024', 'busybox', 'sh', '-c', 'timeout 1 nc -l -p 80 2>&1; true']));
  assert.match(own, /bind: Permission denied/);
  const host = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim();
  assert.equal(ok(d.tug(['run', '--rm', '--network', 'host', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'])).trim(), host);
});

test('--mac-address: the container\'s eth0 has it, inspect shows it; a malformed one is refused', () => {
  assert.equal(ok(d.tug(['run', '--rm', '--mac-address', '02:42:AC:11:00:99', 'busybox', 'cat', '/sys/class/net/eth0/address'])).trim(), '02:42:ac:11:00:99');
  const id = ok(d.docker(['run', '-d', '--mac-address', '02:42:ac:11:00:97', 'busybox', 'sleep', '30'])).trim();
  assert.equal(ok(d.docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}', id])).trim(), '02:42:ac:11:00:97');
  assert.equal(ok(d.docker(['exec', id, 'cat', '/sys/class/net/eth0/address'])).trim(), '02:42:ac:11:00:97');
  ok(d.docker(['rm', '-f', id]));
  const bad = d.tug(['run', '--rm', '--mac-address', '02:42:zz', 'busybox', 'true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid MAC address: 02:42:zz/);
});

test('a killed daemon keeps published ports working, and after rm nothing of the network is left', async () => {
  const id = web('web7', ['3347:80']);
  await eventually(() => get('http://127.0.0.1:3347/').catch(() => ''), (t) => t === 'hello-web7\n');
  await d.kill('SIGKILL');
  assert.equal(await get('http://127.0.0.1:3347/'), 'hello-web7\n', 'the container and its port outlive the daemon');
  await d.start();
  const clash = d.tug(['run', '-d', '--name', 'web8', '-p', '3347:80', 'busybox', 'sleep', '100']);
  assert.match(clash.stderr, /port is already allocated/, 'a restarted daemon still knows the port is taken');
  ok(d.tug(['rm', '-f', 'web7', 'web8']));
  assert.equal(iptablesMentions(id), 0);
  assert.deepEqual(await eventually(() => readdirSync(join(d.root, 'network', 'endpoints')), (l) => l.length === 0), []);
  const pool = await d.premade();
  const leases = readdirSync(join(d.root, 'network', 'ipam', `tugboat-${d.bridge}`)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f) && !pool.ips.has(f));
  assert.deepEqual(leases, [], 'no address lease left');
  assert.deepEqual(readdirSync('/run/netns').filter((n) => n.startsWith(`tug-${id.slice(0, 16)}`)), []);
});

test('an exited container\'s namespace is made ready again for the next one, unless the container could change it', async () => {
  const nsInode = (out: string) => Number(/net:\[(\d+)\]/.exec(out)?.[1]);
  const premadeInodes = async () => (await d.premade()).netns.map((p) => statSync(p).ino);
  // a quick container gives its namespace back before the pool refills behind it
  const reused: number[] = [];
  for (let i = 0; i < 5 && reused.length === 0; i++) {
    const ino = nsInode(ok(d.tug(['run', '--rm', 'busybox', 'readlink', '/proc/self/ns/net'])));
    if ((await premadeInodes()).includes(ino)) reused.push(ino);
  }
  assert.equal(reused.length, 1, 'one of five quick containers left its namespace among the pre-made ones');

  // one with NET_ADMIN changed its namespace: that one is deleted, and nobody after it sees the change
  const changed = ok(d.tug(['run', '--rm', '--cap-add', 'NET_ADMIN', 'busybox', 'sh', '-c',
    'ip addr add 192.0.2.77/32 dev eth0 && ip route add 198.51.100.0/24 dev eth0 && readlink /proc/self/ns/net']));
  const gone = nsInode(changed);
  await eventually(() => readdirSync('/run/netns').some((n) => statSync(join('/run/netns', n)).ino === gone), (x) => !x);
  assert.ok(!(await premadeInodes()).includes(gone));
  for (let i = 0; i < 3; i++) {
    const seen = ok(d.tug(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr; ip route']));
    assert.doesNotMatch(seen, /192\.0\.2\.77|198\.51\.100/);
    assert.equal(seen.match(/inet /g)?.length, 2, 'loopback and eth0 only');
  }
});

test('a daemon stopped right after a container started leaves no pre-made namespace behind', async () => {
  // the container took a pre-made namespace: the pool's refill is due while the daemon stops
  ok(d.tug(['run', '-d', '--name', 'holder', 'busybox', 'sleep', '100']));
  await d.kill('SIGTERM');
  const pool = join(d.root, 'network', 'pool');
  assert.deepEqual(existsSync(pool) ? readdirSync(pool) : [], [], 'no namespace made after the pool was emptied');
  await d.start();
  ok(d.tug(['rm', '-f', 'holder']));
});

test('a daemon refuses a --bip that contradicts the address its bridge already has', () => {
  const dir = join(d.dir, 'second');
  const r = spawnSync(process.execPath, [join(REPO, 'dist/tugd.js'), '-H', `unix://${join(dir, 's.sock')}`, '--data-root', join(dir, 'root'), '--config-file', join(dir, 'none.json'), '--bridge', d.bridge, '--bip', '10.99.99.1/24'], { encoding: 'utf8', timeout: 20000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`bridge ${d.bridge} already has the address`));
});
