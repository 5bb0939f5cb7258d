// User-defined networks: names and aliases through the embedded DNS, isolation between networks, --internal,
// container: mode, connect/disconnect (live and before start), the docker CLI, bad input, and a network that
// grows past one bridge's ports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import * as dnsPacket from 'dns-packet';
import { TestDaemon } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };
const fails = (r: { code: number; stdout: string; stderr: string }, re: RegExp) => { assert.notEqual(r.code, 0, r.stdout); assert.match(r.stderr, re); };
/** A busybox httpd answering its own name. */
const web = (name: string, args: string[]) => ok(d.tug(['run', '-d', '--name', name, ...args, 'busybox', 'sh', '-c', `mkdir -p /w && echo hello-${name} > /w/index.html && exec httpd -f -p 80 -h /w`])).trim();
// nc's input stays open a moment: busybox nc may stop reading once its input ends, before the body arrives
const fetchIn = (host: string) => `(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 1) | nc -w 3 ${host} 80`;
const inspect = (ref: string) => JSON.parse(ok(d.tug(['inspect', ref])))[0];
const ipOn = (ref: string, net: string) => inspect(ref).NetworkSettings.Networks[net].IPAddress as string;

test('two containers on a user network reach each other by name and by alias; the network shows them', () => {
  const id = ok(d.tug(['network', 'create', '--label', 'team=a', 'appnet'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  web('db', ['--network', 'appnet', '--network-alias', 'database']);
  const out = ok(d.tug(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', `${fetchIn('db')}; ${fetchIn('database')}; ping -c1 -W2 db >/dev/null && echo ping-ok; nslookup database | grep -A1 'Name:'`]));
  assert.match(out, /hello-db[\s\S]*hello-db/);
  assert.match(out, /ping-ok/);
  assert.match(out, new RegExp(`Address:? *${ipOn('db', 'appnet').replace(/\./g, '\\.')}`));

  const net = JSON.parse(ok(d.tug(['network', 'inspect', 'appnet'])))[0];
  assert.equal(net.Driver, 'bridge');
  assert.deepEqual(net.Labels, { team: 'a' });
  assert.match(net.IPAM.Config[0].Subnet, /^10\.\d+\.\d+\.0\/24$/);
  const members = Object.values(net.Containers) as Array<{ Name: string; IPv4Address: string }>;
  assert.deepEqual(members.map((c) => c.Name), ['db']);
  assert.equal(members[0].IPv4Address, `${ipOn('db', 'appnet')}/24`);
  const ep = inspect('db').NetworkSettings.Networks.appnet;
  assert.deepEqual(ep.Aliases, ['database']);
  assert.equal(ep.NetworkID, id);
  assert.match(ok(d.tug(['network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}'])), /^appnet\n$/);
  assert.match(ok(d.tug(['ps', '--filter', 'network=appnet', '--format', '{{.Names}}'])), /^db\n$/);

  // names of other containers are answered; anything else is forwarded to the host's resolvers
  assert.match(ok(d.tug(['run', '--rm', '--network', 'appnet', 'busybox', 'cat', '/etc/resolv.conf'])), new RegExp(`nameserver ${net.IPAM.Config[0].Gateway.replace(/\./g, '\\.')}`));
  const mirror = d.tug(['run', '--rm', '--network', 'appnet', 'busybox', 'nslookup', 'deb.debian.org']);
  assert.match(mirror.stdout, /Name:\s+deb\.debian\.org/, mirror.stdout + mirror.stderr);
});

test('networks are isolated: no traffic and no names across them; the default bridge resolves names too', () => {
  ok(d.tug(['network', 'create', 'othernet']));
  web('lone', ['--network', 'othernet']);
  web('plain', []);
  const ip = ipOn('lone', 'othernet');
  const across = d.tug(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', `${fetchIn(ip)}; nslookup lone; ping -c1 -W1 ${ipOn('plain', 'bridge')}`]);
  assert.doesNotMatch(across.stdout, /hello-lone/);
  assert.notEqual(across.code, 0);
  assert.match(across.stdout + across.stderr, /can't find lone|NXDOMAIN/i);
  // unlike docker, the default bridge has names
  assert.match(ok(d.tug(['run', '--rm', 'busybox', 'sh', '-c', fetchIn('plain')])), /hello-plain/);
  // a container on both networks reaches both
  const both = ok(d.tug(['run', '--rm', '--network', 'appnet', '--network', 'othernet', 'busybox', 'sh', '-c', `${fetchIn('db')}; ${fetchIn('lone')}`]));
  assert.match(both, /hello-db[\s\S]*hello-lone/);
});

test('--internal: containers talk to each other but have no route out', () => {
  ok(d.tug(['network', 'create', '--internal', 'vault']));
  web('secret', ['--network', 'vault']);
  // the mirror's address, as the host resolves it: an internal network has no way to it, a normal one has
  const mirror = execFileSync('getent', ['ahostsv4', 'deb.debian.org'], { encoding: 'utf8' }).split(/\s/)[0];
  const head = `(printf 'HEAD / HTTP/1.0\\r\\nHost: deb.debian.org\\r\\n\\r\\n'; sleep 2) | nc -w 3 ${mirror} 80 | head -1`;
  const inside = ok(d.tug(['run', '--rm', '--network', 'vault', 'busybox', 'sh', '-c', `${fetchIn('secret')}; ip route`]));
  assert.match(inside, /hello-secret/);
  assert.doesNotMatch(inside, /default/);
  assert.doesNotMatch(d.tug(['run', '--rm', '--network', 'vault', 'busybox', 'sh', '-c', head]).stdout, /HTTP\/1/);
  assert.match(ok(d.tug(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', head])), /^HTTP\/1\.\d \d{3}/);
  assert.equal(JSON.parse(ok(d.tug(['network', 'inspect', 'vault'])))[0].Internal, true);
});

test('--network container:NAME shares the namespace; --network host sees the host', () => {
  ok(d.tug(['run', '-d', '--name', 'owner', '--network', 'appnet', 'busybox', 'sh', '-c', 'echo shared | nc -l -p 7000']));
  const out = ok(d.tug(['run', '--rm', '--network', 'container:owner', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; sleep 0.3; nc -w 2 127.0.0.1 7000']));
  assert.match(out, new RegExp(ipOn('owner', 'appnet').replace(/\./g, '\\.')));
  assert.match(out, /shared/);
  ok(d.tug(['rm', '-f', 'owner']));
  fails(d.tug(['run', '--rm', '--network', 'container:nosuch', 'busybox', 'true']), /No such container: nosuch/);
  assert.match(ok(d.tug(['run', '--rm', '--network', 'host', 'busybox', 'ip', 'link'])), new RegExp(d.bridge));
});

test('connect and disconnect: live, and before start as docker-compose does; --ip', () => {
  ok(d.tug(['network', 'create', '--subnet', '10.231.7.0/24', '--gateway', '10.231.7.254', 'fixed']));
  web('svc', ['--network', 'fixed', '--ip', '10.231.7.50']);
  assert.equal(ipOn('svc', 'fixed'), '10.231.7.50');
  fails(d.tug(['run', '-d', '--network', 'fixed', '--ip', '10.231.7.50', 'busybox', 'sleep', '9']), /Address already in use|already/);

  ok(d.tug(['run', '-d', '--name', 'roamer', 'busybox', 'sleep', '1000']));
  fails(d.tug(['exec', 'roamer', 'sh', '-c', fetchIn('svc')]), /bad address|can't|not found/i);
  ok(d.tug(['network', 'connect', '--alias', 'rover', 'fixed', 'roamer']));
  assert.match(ok(d.tug(['exec', 'roamer', 'sh', '-c', fetchIn('svc')])), /hello-svc/);
  assert.match(ok(d.tug(['exec', 'roamer', 'ip', '-4', '-o', 'addr'])), /eth1\s+inet 10\.231\.7\./);
  assert.match(ok(d.tug(['exec', 'svc', 'nslookup', 'rover'])), /10\.231\.7\./);
  ok(d.tug(['network', 'disconnect', 'fixed', 'roamer']));
  assert.doesNotMatch(ok(d.tug(['exec', 'roamer', 'ip', '-4', '-o', 'addr'])), /10\.231\.7\./);
  assert.equal(inspect('roamer').NetworkSettings.Networks.fixed, undefined);

  // created, connected, then started: joins both networks at start
  ok(d.tug(['create', '--name', 'late', '--network', 'appnet', 'busybox', 'sleep', '1000']));
  ok(d.tug(['network', 'connect', 'fixed', 'late']));
  assert.deepEqual(Object.keys(inspect('late').NetworkSettings.Networks).sort(), ['appnet', 'fixed']);
  ok(d.tug(['start', 'late']));
  const addrs = ok(d.tug(['exec', 'late', 'ip', '-4', '-o', 'addr']));
  assert.match(addrs, /eth0\s+inet 10\./);
  assert.match(addrs, /eth1\s+inet 10\.231\.7\./);
  fails(d.tug(['network', 'connect', 'fixed', 'late']), /already exists in network fixed/);
  // a rename is seen by the DNS at once
  ok(d.tug(['rename', 'svc', 'svc2']));
  assert.match(ok(d.tug(['exec', 'late', 'sh', '-c', fetchIn('svc2')])), /hello-svc/);
  assert.notEqual(d.tug(['exec', 'late', 'nslookup', 'svc']).code, 0, 'the old name is gone');
  const events = ok(d.tug(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=network', '--format', '{{.Action}}']));
  assert.match(events, /create[\s\S]*connect[\s\S]*disconnect/);

  // disconnected from its only network before its start: it starts with loopback alone, and can join one later
  ok(d.tug(['create', '--name', 'loner', '--network', 'fixed', 'busybox', 'sleep', '1000']));
  ok(d.tug(['network', 'disconnect', 'fixed', 'loner']));
  assert.deepEqual(inspect('loner').NetworkSettings.Networks, {});
  ok(d.tug(['start', 'loner']));
  assert.deepEqual(ok(d.tug(['exec', 'loner', 'ls', '/sys/class/net'])).split(/\s+/).filter(Boolean), ['lo']);
  ok(d.tug(['network', 'connect', 'fixed', 'loner']));
  assert.match(ok(d.tug(['exec', 'loner', 'ip', '-4', '-o', 'addr'])), /eth0\s+inet 10\.231\.7\./);
});

test('the docker CLI: network create, ls, inspect, connect, run --network, rm', () => {
  ok(d.docker(['network', 'create', '--subnet', '10.232.9.0/24', '--ip-range', '10.232.9.128/25', 'dnet']));
  assert.match(ok(d.docker(['network', 'ls'])), /dnet\s+bridge\s+local/);
  assert.equal(ok(d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'dnet'])).trim(), '10.232.9.0/24');
  ok(d.docker(['run', '-d', '--name', 'dweb', '--network', 'dnet', '--network-alias', 'dw', 'busybox', 'sh', '-c', 'mkdir -p /w && echo hi-docker > /w/index.html && exec httpd -f -p 80 -h /w']));
  ok(d.docker(['run', '-d', '--name', 'dclient', 'busybox', 'sleep', '1000']));
  ok(d.docker(['network', 'connect', 'dnet', 'dclient']));
  assert.match(ok(d.docker(['exec', 'dclient', 'sh', '-c', fetchIn('dw')])), /hi-docker/);
  const ip = /"dnet":\{.*"IPAddress":"10\.232\.9\.(\d+)"/.exec(ok(d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'dclient'])));
  assert.ok(ip && Number(ip[1]) > 128, `an address from --ip-range: ${ip?.[1]}`);
  fails(d.docker(['network', 'rm', 'dnet']), /has active endpoints/);
  ok(d.docker(['rm', '-f', 'dweb', 'dclient']));
  ok(d.docker(['network', 'rm', 'dnet']));
  assert.doesNotMatch(ok(d.docker(['network', 'ls'])), /dnet/);
});

test('bad input: clear errors, nothing half-made', () => {
  const before = d.networks().length;
  fails(d.tug(['network', 'create', '--subnet', '10.231.7.128/25', 'overlap']), /overlaps/);
  fails(d.tug(['network', 'create', '--subnet', '10.300.0.0/16', 'badcidr']), /invalid|CIDR/i);
  fails(d.tug(['network', 'create', 'appnet']), /network with name appnet already exists/);
  fails(d.tug(['network', 'create', '--driver', 'overlay', 'ov']), /plugin "overlay" not found/);
  fails(d.tug(['network', 'create', '--subnet', '10.233.0.0/24', '--gateway', '10.234.0.1', 'gw']), /no matching subnet for gateway/);
  assert.equal(d.networks().length, before);
  fails(d.tug(['network', 'rm', 'bridge']), /pre-defined network and cannot be removed/);
  fails(d.tug(['network', 'rm', 'appnet']), /has active endpoints/);
  fails(d.tug(['network', 'rm', 'nosuchnet']), /network nosuchnet not found/);
  fails(d.tug(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']), /network nosuchnet not found/);
  fails(d.tug(['run', '--rm', '--ip', '10.0.0.5', 'busybox', 'true']), /user specified IP address is supported on user defined networks only/);
  fails(d.tug(['run', '--rm', '--network', 'fixed', '--ip', '10.99.0.5', 'busybox', 'true']), /no configured subnet or ip-range contain the IP address 10\.99\.0\.5/);
  fails(d.tug(['network', 'connect', 'fixed', 'nosuchctr']), /No such container: nosuchctr/);
  fails(d.tug(['run', '--rm', '--network', 'host', '-p', '80:80', 'busybox', 'true']), /published ports need a network/);
  assert.equal(d.networks().length, before);
});

test('prune removes unused networks only; rm leaves no bridge, rule or lease', () => {
  ok(d.tug(['rm', '-f', 'lone']));
  const other = d.networks().find((n) => n.Name === 'othernet')!;
  ok(d.tug(['network', 'create', 'spare']));
  const out = ok(d.tug(['network', 'prune', '-f']));
  assert.match(out, /othernet/);
  assert.match(out, /spare/);
  assert.doesNotMatch(out, /appnet|bridge/);
  assert.ok(!existsSync(`/sys/class/net/${other.Bridges[0]}`), 'its bridge is gone');
  assert.doesNotMatch(execFileSync('iptables-save', { encoding: 'utf8' }), new RegExp(`tugboat:${other.Bridges[0]}"`));
  assert.ok(!existsSync(`${d.root}/network/ipam/tugboat-${other.Bridges[0]}`), 'its leases are gone');
});

test('--dns: names not ours go to the container\'s own resolver, through the embedded DNS', async () => {
  // a tiny DNS server on the host's loopback, which only the daemon (not the container) can reach
  const server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const answers = q.questions?.[0]?.name === 'magic.test' && q.questions[0].type === 'A' ? [{ type: 'A' as const, name: 'magic.test', ttl: 60, data: '192.0.2.77' }] : [];
    server.send(dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(53, '127.0.0.77', r));
  try {
    const r = await d.tugAsync(['run', '--rm', '--network', 'appnet', '--dns', '127.0.0.77', '--dns-search', 'example.internal', '--dns-option', 'ndots:3', '--add-host', 'gw:host-gateway', 'busybox', 'sh', '-c', 'nslookup magic.test; cat /etc/resolv.conf /etc/hosts']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Address:? *192\.0\.2\.77/);
    assert.match(r.stdout, /search example\.internal/);
    assert.match(r.stdout, /options ndots:3/);
    assert.doesNotMatch(r.stdout, /nameserver 127\./);
    const gw = /(\d+\.\d+\.\d+\.\d+)\tgw/.exec(r.stdout)![1];
    assert.equal(gw, JSON.parse(ok(d.tug(['network', 'inspect', 'bridge'])))[0].IPAM.Config[0].Gateway);
  } finally {
    server.close();
  }
});

test('--link name:alias: the alias and the name in /etc/hosts, docker\'s link variables, a stopped or missing target refused', () => {
  ok(d.tug(['run', '-d', '--name', 'linkdb', '-e', 'DB_USER=admin', '--expose', '5432', 'busybox', 'sleep', '1000']));
  const ip = ipOn('linkdb', 'bridge');
  // on the default bridge, as docker: the first port, each port in detail, the link's name, the target's own env
  const env = ok(d.tug(['run', '--rm', '--name', 'linkweb', '--link', 'linkdb:my-db', 'busybox', 'env'])).split('\n');
  for (const kv of [`MY_DB_PORT=tcp://${ip}:5432`, `MY_DB_PORT_5432_TCP=tcp://${ip}:5432`, `MY_DB_PORT_5432_TCP_ADDR=${ip}`, 'MY_DB_PORT_5432_TCP_PORT=5432', 'MY_DB_PORT_5432_TCP_PROTO=tcp', 'MY_DB_NAME=/linkweb/my-db', 'MY_DB_ENV_DB_USER=admin']) assert.ok(env.includes(kv), `${kv} in ${env.join(' ')}`);
  assert.ok(!env.some((kv) => kv.startsWith('MY_DB_ENV_PATH=')), 'PATH is not passed on');
  const created = ok(d.tug(['create', '--name', 'linkweb2', '--link', 'linkdb:alias', 'busybox'])).trim();
  assert.deepEqual(JSON.parse(ok(d.tug(['inspect', '-f', '{{json .HostConfig.Links}}', created]))), ['/linkdb:/linkweb2/alias']);
  ok(d.tug(['rm', created]));
  const hosts = ok(d.tug(['run', '--rm', '--link', 'linkdb:database', 'busybox', 'sh', '-c', 'grep database /etc/hosts; ping -c1 -W2 database >/dev/null && echo reached']));
  assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+database\\s+[0-9a-f]{12}\\s+linkdb$`, 'm'));
  assert.match(hosts, /^reached$/m);
  assert.match(d.docker(['run', '--rm', '--link', 'linkdb', 'busybox', 'cat', '/etc/hosts']).stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+linkdb\\b`, 'm'));
  const before = ok(d.tug(['ps', '-aq'])).trim();
  fails(d.tug(['run', '--rm', '--link', 'nosuch:x', 'busybox', 'true']), /could not get container for nosuch/);
  fails(d.tug(['create', '--link', 'nosuch:x', 'busybox']), /could not get container for nosuch/);
  fails(d.tug(['create', '--network', 'host', '--link', 'linkdb', 'busybox']), /host type networking can't be used with links/);
  ok(d.tug(['stop', '-t', '0', 'linkdb']));
  fails(d.tug(['run', '--rm', '--link', 'linkdb:x', 'busybox', 'true']), /Cannot link to a non running container: \/linkdb AS/);
  assert.equal(ok(d.tug(['ps', '-aq'])).trim(), before, 'nothing half-made');
  ok(d.tug(['rm', 'linkdb']));
});
