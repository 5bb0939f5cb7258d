// `tug network …` and the networking flags of run/create: flag → API body mapping, parsing of -o/--label/--add-host,
// and the commands' output against a small fake daemon on a temp unix socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCreateRequest, dnsSearchEntry, networkOpts, parseExtraHost, parseNetworkFlag } from '../../src/cli/runopts.ts';
import {
  buildEndpointConfig, buildNetworkCreate, formatAddr, ipamConfig, maskedCidr, naturalCompare, networkRow, parseAddr, parseCidr,
  parseKeyValues, parseLabels,
} from '../../src/cli/network.ts';
import { FlagError, UsageError } from '../../src/cli/errors.ts';
import type { NetworkInfo } from '../../src/client/types.ts';
import { runTug } from './cli-fakedaemon.ts';

// ---- run/create flags → create body ----

test('--network: NetworkMode; no endpoint settings for a plain single network', () => {
  let b = buildCreateRequest('i', [], {}).body;
  assert.equal(b.HostConfig.NetworkMode, 'default');
  assert.equal(b.NetworkingConfig, undefined);
  b = buildCreateRequest('i', [], { network: ['mynet'] }).body;
  assert.equal(b.HostConfig.NetworkMode, 'mynet');
  assert.equal(b.NetworkingConfig, undefined);
  assert.equal(buildCreateRequest('i', [], { network: 'host' }).body.HostConfig.NetworkMode, 'host', 'a plain string is taken too');
  assert.equal(buildCreateRequest('i', [], { network: ['container:abc'] }).body.HostConfig.NetworkMode, 'container:abc');
});

test('--network-alias and --ip become the first network\'s EndpointsConfig entry', () => {
  const b = buildCreateRequest('i', [], { network: ['mynet'], networkAlias: ['web', 'www'], ip: '10.5.0.9' }).body;
  assert.equal(b.HostConfig.NetworkMode, 'mynet');
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: { mynet: { Aliases: ['web', 'www'], IPAMConfig: { IPv4Address: '10.5.0.9' } } } });
  // --ip on the default network is sent: the daemon refuses it ("user specified IP address is supported on user defined networks only")
  assert.deepEqual(buildCreateRequest('i', [], { ip: '172.17.0.9' }).body.NetworkingConfig, { EndpointsConfig: { default: { IPAMConfig: { IPv4Address: '172.17.0.9' } } } });
  assert.deepEqual(buildCreateRequest('i', [], { network: ['bridge'], ip: '172.17.0.9' }).body.NetworkingConfig, { EndpointsConfig: { bridge: { IPAMConfig: { IPv4Address: '172.17.0.9' } } } });
  assert.deepEqual(buildCreateRequest('i', [], { network: ['n'], ip6: 'fd00::5' }).body.NetworkingConfig, { EndpointsConfig: { n: { IPAMConfig: { IPv6Address: 'fd00::5' } } } });
  assert.throws(() => buildCreateRequest('i', [], { network: ['n'], ip: 'nope' }),
    (e: unknown) => e instanceof FlagError && e.message === 'invalid argument "nope" for "--ip" flag: invalid string being converted to IP address: nope');
});

test('aliases on networks that are not user-defined are refused, like docker\'s CLI', () => {
  for (const network of [undefined, ['bridge'], ['host'], ['none'], ['default'], ['container:x']]) {
    assert.throws(() => buildCreateRequest('i', [], { network, networkAlias: ['a'] }),
      (e: unknown) => e instanceof UsageError && e.message === 'network-scoped aliases are only supported for user-defined networks');
  }
});

test('several --network flags: the first is the mode, every one an endpoint; conflicts refused', () => {
  const r = networkOpts({ network: ['n1', 'n2'], networkAlias: ['a'] });
  assert.equal(r.mode, 'n1');
  assert.deepEqual(r.endpoints, { n1: { Aliases: ['a'] }, n2: {} });
  assert.throws(() => networkOpts({ network: ['n1', 'n1'] }), /network "n1" is specified multiple times/);
  assert.throws(() => networkOpts({ network: ['n1', 'host'] }), /cannot attach both user-defined and non-user-defined network-modes/);
});

test('--network in docker\'s long form', () => {
  assert.deepEqual(parseNetworkFlag('plain'), { target: 'plain', ep: {} });
  assert.deepEqual(parseNetworkFlag('name=n1,alias=a1,alias=a2,ip=10.1.0.5,driver-opt=k=v'),
    { target: 'n1', ep: { Aliases: ['a1', 'a2'], IPAMConfig: { IPv4Address: '10.1.0.5' }, DriverOpts: { k: 'v' } } });
  assert.throws(() => parseNetworkFlag('alias=a'), /network name\/id is not specified/);
  assert.throws(() => parseNetworkFlag('name=n,bogus=1'), /invalid field key bogus/);
  assert.throws(() => networkOpts({ network: ['name=n,alias=x'], networkAlias: ['y'] }), /cannot specify both --network-alias and per-network alias/);
  const r = networkOpts({ network: ['name=n,alias=x', 'other'] });
  assert.deepEqual(r.endpoints, { n: { Aliases: ['x'] }, other: {} });
});

test('DNS flags, --add-host and --domainname map onto HostConfig and Config', () => {
  const b = buildCreateRequest('i', [], {
    dns: ['1.1.1.1', ' 2001:4860:4860::8888'], dnsSearch: ['example.com.', '.'], dnsOption: ['ndots:2', 'timeout:1'],
    addHost: ['db:10.0.0.5', 'gw=host-gateway', 'v6:::1', 'br=[fd00::1]'], domainname: 'corp.example',
  }).body;
  assert.deepEqual(b.HostConfig.Dns, ['1.1.1.1', '2001:4860:4860::8888']);
  assert.deepEqual(b.HostConfig.DnsSearch, ['example.com', '.']);
  assert.deepEqual(b.HostConfig.DnsOptions, ['ndots:2', 'timeout:1']);
  assert.deepEqual(b.HostConfig.ExtraHosts, ['db:10.0.0.5', 'gw:host-gateway', 'v6:::1', 'br:fd00::1']);
  assert.equal(b.Domainname, 'corp.example');
  const none = buildCreateRequest('i', [], {}).body;
  assert.deepEqual([none.HostConfig.Dns, none.HostConfig.DnsSearch, none.HostConfig.DnsOptions, none.HostConfig.ExtraHosts, none.Domainname], [undefined, undefined, undefined, undefined, undefined]);
  assert.throws(() => buildCreateRequest('i', [], { dns: ['dns.example'] }),
    (e: unknown) => e instanceof FlagError && e.message === 'invalid argument "dns.example" for "--dns" flag: IP address is not correctly formatted: dns.example');
});

test('--add-host is checked like docker\'s ValidateExtraHost', () => {
  const bad = (v: string, why: string) => assert.throws(() => parseExtraHost(v),
    (e: unknown) => e instanceof FlagError && e.message === `invalid argument "${v}" for "--add-host" flag: ${why}`);
  bad('x', 'bad format for add-host: "x"');
  bad(':1.2.3.4', 'bad format for add-host: ":1.2.3.4"');
  bad('=1.2.3.4', 'bad format for add-host: "=1.2.3.4"');
  bad('a:b=1.2.3.4', 'bad format for add-host: "a:b=1.2.3.4"');
  bad('host:notanip', 'invalid IP address in add-host: "notanip"');
  bad('host:', 'invalid IP address in add-host: ""');
  assert.equal(parseExtraHost('host.docker.internal:host-gateway'), 'host.docker.internal:host-gateway');
  assert.equal(parseExtraHost('h=::1'), 'h:::1');
  assert.equal(parseExtraHost('h:[::1]'), 'h:::1');
});

test('--dns-search domains', () => {
  assert.equal(dnsSearchEntry('a.example.com'), 'a.example.com');
  assert.equal(dnsSearchEntry('a.example.com.'), 'a.example.com');
  assert.equal(dnsSearchEntry(' . '), '.');
  assert.throws(() => dnsSearchEntry('123'), /invalid argument "123" for "--dns-search" flag: 123 is not a valid domain/);
  assert.throws(() => dnsSearchEntry('-bad.com'), /-bad\.com is not a valid domain/);
});

// ---- network create/connect bodies ----

test('-o and --label: split at the first "=", a bare key has an empty value; labels need a name', () => {
  assert.deepEqual(parseKeyValues(['com.docker.network.bridge.name=br-x', 'mtu=1400', 'flag', 'a=b=c']),
    { 'com.docker.network.bridge.name': 'br-x', mtu: '1400', flag: '', a: 'b=c' });
  assert.deepEqual(parseKeyValues(undefined), {});
  assert.deepEqual(parseLabels(['env=prod', 'team', 'x=']), { env: 'prod', team: '', x: '' });
  assert.throws(() => parseLabels(['=v']), (e: unknown) => e instanceof FlagError && e.message === 'invalid argument "=v" for "--label" flag: invalid label \'=v\': empty name');
  assert.throws(() => parseLabels(['a b=c']), /label 'a b' contains whitespaces/);
});

test('network create body: defaults as docker sends them', () => {
  assert.deepEqual(buildNetworkCreate('n1', {}), {
    Name: 'n1', Driver: 'bridge', Options: {}, IPAM: { Driver: 'default', Config: [], Options: {} }, Internal: false, Attachable: false, Labels: {},
  });
  const b = buildNetworkCreate('n2', {
    driver: 'bridge', subnet: ['10.20.0.0/16'], gateway: ['10.20.0.254'], ipRange: ['10.20.5.7/24'], internal: true, attachable: true,
    label: ['a=b', 'c'], opt: ['com.docker.network.bridge.name=tug-n2'], ipamDriver: 'default', ipamOpt: ['x=y'], ipv6: true,
  });
  assert.deepEqual(b, {
    Name: 'n2', Driver: 'bridge', Options: { 'com.docker.network.bridge.name': 'tug-n2' },
    IPAM: { Driver: 'default', Config: [{ Subnet: '10.20.0.0/16', IPRange: '10.20.5.0/24', Gateway: '10.20.0.254' }], Options: { x: 'y' } },
    Internal: true, Attachable: true, Labels: { a: 'b', c: '' }, EnableIPv6: true,
  });
  assert.equal(buildNetworkCreate('n3', { ipv6: false }).EnableIPv6, false, '--ipv6=false is sent');
});

test('IPAM config: ranges and gateways find their subnet; docker\'s errors', () => {
  assert.deepEqual(ipamConfig({ subnet: ['10.1.0.0/16,10.2.0.0/16'], gateway: ['10.2.0.1', '10.1.0.1'], auxAddress: ['host1=10.1.0.5'] }), [
    { Subnet: '10.1.0.0/16', Gateway: '10.1.0.1', AuxiliaryAddresses: { host1: '10.1.0.5' } },
    { Subnet: '10.2.0.0/16', Gateway: '10.2.0.1' },
  ]);
  assert.deepEqual(ipamConfig({ subnet: ['fd00:1::/64'], gateway: ['fd00:1:0:0::1'] }), [{ Subnet: 'fd00:1::/64', Gateway: 'fd00:1::1' }]);
  assert.throws(() => ipamConfig({ gateway: ['10.0.0.1'] }), /every ip-range or gateway must have a corresponding subnet/);
  assert.throws(() => ipamConfig({ subnet: ['10.0.0.0/8', '10.1.0.0/16'] }), /multiple overlapping subnet configuration is not supported/);
  assert.throws(() => ipamConfig({ subnet: ['10.0.0.0/16'], gateway: ['10.9.0.1'] }), /no matching subnet for gateway 10\.9\.0\.1/);
  assert.throws(() => ipamConfig({ subnet: ['10.0.0.0/16'], ipRange: ['10.9.0.0/24'] }), /no matching subnet for range 10\.9\.0\.0\/24/);
  assert.throws(() => ipamConfig({ subnet: ['10.0.0.0/16', '10.3.0.0/16'], gateway: ['10.0.0.1', '10.0.0.2'] }), /cannot configure multiple gateways \(10\.0\.0\.2, 10\.0\.0\.1\) for the same subnet \(10\.0\.0\.0\/16\)/);
  assert.throws(() => ipamConfig({ subnet: ['nonsense'] }), /invalid subnet: invalid CIDR address: nonsense/);
  assert.throws(() => ipamConfig({ subnet: ['10.0.0.0/8'], gateway: ['x'] }), (e: unknown) => e instanceof FlagError && /for "--gateway" flag/.test(e.message));
  assert.throws(() => ipamConfig({ subnet: ['10.0.0.0/8'], ipRange: ['10.0.0.0'] }), (e: unknown) => e instanceof FlagError && /for "--ip-range" flag/.test(e.message));
});

test('addresses: parse, canonical text, masks', () => {
  assert.equal(formatAddr(parseAddr('2001:db8:0:0:0:0:0:1')!), '2001:db8::1');
  assert.equal(formatAddr(parseAddr('::')!), '::');
  assert.equal(formatAddr(parseAddr('1:0:0:2:0:0:0:3')!), '1:0:0:2::3');
  assert.equal(formatAddr(parseAddr('::ffff:1.2.3.4')!), '::ffff:102:304');
  assert.equal(parseAddr('1.2.3'), undefined);
  assert.equal(maskedCidr(parseCidr('192.168.77.9/20')!), '192.168.64.0/20');
  assert.equal(maskedCidr(parseCidr('fd00:aa:bb::7/48')!), 'fd00:aa:bb::/48');
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
});

test('network connect endpoint config', () => {
  assert.deepEqual(buildEndpointConfig({}), {});
  assert.deepEqual(buildEndpointConfig({ alias: ['a,b', 'c'], ip: '10.1.0.7', ip6: 'fd00::7', driverOpt: ['k=v'] }),
    { Aliases: ['a', 'b', 'c'], IPAMConfig: { IPv4Address: '10.1.0.7', IPv6Address: 'fd00::7' }, DriverOpts: { k: 'v' } });
  assert.throws(() => buildEndpointConfig({ ip: '10.1' }), /invalid argument "10\.1" for "--ip" flag/);
});

test('network ls rows and natural order', () => {
  const n: NetworkInfo = { Name: 'web', Id: 'f'.repeat(64), Created: '2024-05-01T10:11:12.500000000Z', Scope: 'local', Driver: 'bridge', Internal: true, Labels: { b: '2', a: '1' } };
  const r = networkRow(n, true);
  assert.deepEqual([r.ID, r.Name, r.Driver, r.Scope, r.IPv6, r.Internal, r.Labels], ['ffffffffffff', 'web', 'bridge', 'local', 'false', 'true', 'a=1,b=2']);
  assert.equal((r.Label as (k: string) => string)('b'), '2');
  assert.match(String(r.CreatedAt), /^2024-05-0\d \d{2}:\d{2}:12\.5 [+-]\d{4} \w+$/);
  assert.equal(networkRow(n, false).ID, 'f'.repeat(64));
  assert.deepEqual(['net10', 'bridge', 'net2', 'host', 'Net1', 'net02'].sort(naturalCompare), ['Net1', 'bridge', 'host', 'net2', 'net02', 'net10']);
});

// ---- the commands against a fake daemon ----

interface Req { method: string; path: string; query: URLSearchParams; body: string }

let server: http.Server;
let dir: string;
let host: string;
const reqs: Req[] = [];
const nets: NetworkInfo[] = [];
const mkId = (c: string) => c.repeat(64);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tug-net-'));
  const sock = join(dir, 'd.sock');
  host = `unix://${sock}`;
  nets.push(
    { Name: 'bridge', Id: mkId('b'), Created: '2024-01-01T00:00:00Z', Scope: 'local', Driver: 'bridge' },
    { Name: 'host', Id: mkId('c'), Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: 'host' },
    { Name: 'none', Id: mkId('d'), Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: 'null' },
  );
  const send = (res: http.ServerResponse, status: number, v?: unknown) => {
    const b = v === undefined ? '' : JSON.stringify(v);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.44' });
    res.end(b);
  };
  const find = (ref: string) => nets.find((n) => n.Name === ref || n.Id === ref || (ref.length >= 3 && n.Id.startsWith(ref)));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const path = u.pathname.replace(/^\/v\d+\.\d+/, '');
      reqs.push({ method: req.method ?? '', path, query: u.searchParams, body });
      let m: RegExpExecArray | null;
      if (req.method === 'GET' && path === '/networks') return send(res, 200, nets);
      if (req.method === 'POST' && path === '/networks/create') {
        const b = JSON.parse(body) as { Name: string; Driver: string };
        if (find(b.Name)) return send(res, 409, { message: `network with name ${b.Name} already exists` });
        const id = mkId(String.fromCharCode(0x30 + nets.length));
        nets.push({ Name: b.Name, Id: id, Created: '2024-05-01T10:11:12Z', Scope: 'local', Driver: b.Driver });
        return send(res, 201, { Id: id, Warning: '' });
      }
      if (req.method === 'POST' && path === '/networks/prune') return send(res, 200, { NetworksDeleted: ['n-old', 'n-older'] });
      if ((m = /^\/networks\/([^/]+)\/(connect|disconnect)$/.exec(path))) {
        if (!find(decodeURIComponent(m[1]))) return send(res, 404, { message: `network ${decodeURIComponent(m[1])} not found` });
        res.writeHead(200);
        return res.end();
      }
      if ((m = /^\/networks\/([^/]+)$/.exec(path))) {
        const ref = decodeURIComponent(m[1]);
        const n = find(ref);
        if (!n) return send(res, 404, { message: `network ${ref} not found` });
        if (req.method === 'GET') return send(res, 200, n);
        if (req.method === 'DELETE') {
          if (['bridge', 'host', 'none'].includes(n.Name)) return send(res, 403, { message: `${n.Name} is a pre-defined network and cannot be removed` });
          nets.splice(nets.indexOf(n), 1);
          res.writeHead(204);
          return res.end();
        }
      }
      if (req.method === 'POST' && path === '/containers/create') return send(res, 201, { Id: mkId('e'), Warnings: [] });
      send(res, 404, { message: 'page not found' });
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

after(async () => {
  await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections?.(); });
  rmSync(dir, { recursive: true, force: true });
});

const tug = (args: string[], stdin?: string) => runTug(host, args, { stdin });

const last = (method: string, path: string) => [...reqs].reverse().find((r) => r.method === method && r.path === path)!;

test('tug network create prints the ID and sends docker\'s body', async () => {
  const r = await tug(['network', 'create', '-d', 'bridge', '--subnet', '10.30.0.0/24', '--gateway', '10.30.0.1', '--label', 'env=test',
    '-o', 'com.docker.network.driver.mtu=1400', '--internal', '--ipv6', 'frontend']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.deepEqual(JSON.parse(last('POST', '/networks/create').body), {
    Name: 'frontend', Driver: 'bridge', Options: { 'com.docker.network.driver.mtu': '1400' },
    IPAM: { Driver: 'default', Config: [{ Subnet: '10.30.0.0/24', Gateway: '10.30.0.1' }], Options: {} },
    Internal: true, Attachable: false, Labels: { env: 'test' }, EnableIPv6: true,
  });
  const dup = await tug(['network', 'create', 'frontend']);
  assert.equal(dup.code, 1);
  assert.equal(dup.stderr, 'Error response from daemon: network with name frontend already exists\n');
  const bad = await tug(['network', 'create', '--gateway', '10.0.0.1', 'x']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'every ip-range or gateway must have a corresponding subnet\n');
  const noName = await tug(['network', 'create']);
  assert.equal(noName.code, 1);
  assert.match(noName.stderr, /^tug: 'tug network create' requires exactly 1 argument/);
});

test('tug network ls: docker\'s columns, sorted by name; -q, --no-trunc, --format, filters', async () => {
  await tug(['network', 'create', 'app10']);
  await tug(['network', 'create', 'app9']);
  let r = await tug(['network', 'ls']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^NETWORK ID\s{5}NAME\s+DRIVER\s+SCOPE$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[1]), ['app9', 'app10', 'bridge', 'frontend', 'host', 'none']);
  assert.match(lines.find((l) => l.startsWith('bbbb'))!, /^bbbbbbbbbbbb {3}bridge {5}bridge {4}local$/);
  r = await tug(['network', 'ls', '-q', '--filter', 'driver=bridge', '-f', 'name=app']);
  assert.ok(r.stdout.split('\n').filter(Boolean).every((l) => /^[0-9a-f]{12}$/.test(l)));
  assert.deepEqual(JSON.parse(last('GET', '/networks').query.get('filters')!), { driver: ['bridge'], name: ['app'] });
  r = await tug(['network', 'ls', '--no-trunc', '-q']);
  assert.ok(r.stdout.split('\n').filter(Boolean).every((l) => /^[0-9a-f]{64}$/.test(l)));
  r = await tug(['network', 'list', '--format', '{{.Name}}: {{.Driver}}/{{.Scope}} {{.Internal}}']);
  assert.match(r.stdout, /^app9: bridge\/local false\n/);
  assert.match(r.stdout, /\nnone: null\/local false\n$/);
  r = await tug(['network', 'ls', '--format', 'json']);
  const first = JSON.parse(r.stdout.split('\n')[0]) as Record<string, string>;
  assert.deepEqual(Object.keys(first), ['CreatedAt', 'Driver', 'ID', 'IPv4', 'IPv6', 'Internal', 'Labels', 'Name', 'Scope']);
  r = await tug(['network', 'ls', '-f', 'bogus']);
  assert.equal(r.code, 125);
});

test('tug network inspect: a JSON array, templates, missing networks exit 1', async () => {
  let r = await tug(['network', 'inspect', 'bridge', 'host']);
  assert.equal(r.code, 0);
  const arr = JSON.parse(r.stdout) as NetworkInfo[];
  assert.deepEqual(arr.map((n) => n.Name), ['bridge', 'host']);
  assert.match(r.stdout, /^\[\n {4}\{\n {8}"Name": "bridge",/);
  r = await tug(['network', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'bridge']);
  assert.equal(r.stdout, 'bridge bridge\n');
  r = await tug(['network', 'inspect', 'bridge', 'ghost']);
  assert.equal(r.code, 1);
  assert.equal((JSON.parse(r.stdout) as NetworkInfo[]).length, 1);
  assert.equal(r.stderr, 'Error response from daemon: network ghost not found\n');
  r = await tug(['network', 'inspect', 'ghost']);
  assert.equal(r.stdout, '[]\n');
  assert.equal(r.code, 1);
  r = await tug(['inspect', '-f', '{{.Driver}}', 'none']);
  assert.equal(r.stdout, 'null\n', 'tug inspect finds networks too');
});

test('tug network connect / disconnect send docker\'s bodies', async () => {
  let r = await tug(['network', 'connect', '--alias', 'db', '--alias', 'pg', '--ip', '10.30.0.9', 'frontend', 'c1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  let q = last('POST', `/networks/frontend/connect`);
  assert.deepEqual(JSON.parse(q.body), { Container: 'c1', EndpointConfig: { Aliases: ['db', 'pg'], IPAMConfig: { IPv4Address: '10.30.0.9' } } });
  r = await tug(['network', 'disconnect', '-f', 'frontend', 'c1']);
  assert.equal(r.code, 0);
  q = last('POST', `/networks/frontend/disconnect`);
  assert.deepEqual(JSON.parse(q.body), { Container: 'c1', Force: true });
  r = await tug(['network', 'connect', 'ghost', 'c1']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error response from daemon: network ghost not found\n');
});

test('tug network rm: names printed, errors reported, -f quiet on missing ones', async () => {
  let r = await tug(['network', 'rm', 'app9', 'ghost', 'bridge', 'app10']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'app9\napp10\n');
  assert.equal(r.stderr, 'Error response from daemon: network ghost not found\nError response from daemon: bridge is a pre-defined network and cannot be removed\n');
  r = await tug(['network', 'remove', '-f', 'ghost']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
});

test('tug network prune: docker\'s prompt, then the deleted names', async () => {
  const before = reqs.length;
  let r = await tug(['network', 'prune'], 'n\n');
  assert.equal(r.stdout, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
  assert.equal(r.code, 0);
  assert.ok(!reqs.slice(before).some((q) => q.path === '/networks/prune'), 'nothing pruned without a yes');
  r = await tug(['network', 'prune'], 'y\n');
  assert.match(r.stdout, /\[y\/N\] Deleted Networks:\nn-old\nn-older\n\n$/);
  r = await tug(['network', 'prune', '-f', '--filter', 'until=24h', '--filter', 'label=a']);
  assert.equal(r.stdout, 'Deleted Networks:\nn-old\nn-older\n\n');
  assert.deepEqual(JSON.parse(last('POST', '/networks/prune').query.get('filters')!), { until: ['24h'], label: ['a'] });
});

test('tug create: --net/--net-alias/--dns-opt are docker\'s other names for --network/--network-alias/--dns-option', async () => {
  let r = await tug(['create', '--net', 'frontend', '--net-alias', 'a1', '--network-alias', 'a2', '--ip', '10.30.0.20', '--dns', '9.9.9.9',
    '--dns-opt', 'ndots:1', '--dns-option', 'rotate', '--dns-search', 'svc.local', '--add-host', 'db=10.0.0.2', '--domainname', 'example.org', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(last('POST', '/containers/create').body) as Record<string, Record<string, unknown>>;
  assert.equal(b.HostConfig.NetworkMode, 'frontend');
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: { frontend: { Aliases: ['a1', 'a2'], IPAMConfig: { IPv4Address: '10.30.0.20' } } } });
  assert.deepEqual([b.HostConfig.Dns, b.HostConfig.DnsOptions, b.HostConfig.DnsSearch, b.HostConfig.ExtraHosts],
    [['9.9.9.9'], ['ndots:1', 'rotate'], ['svc.local'], ['db:10.0.0.2']]);
  assert.equal(b.Domainname, 'example.org');
  r = await tug(['create', '--network', 'n1', '--net', 'n2', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
  const b2 = JSON.parse(last('POST', '/containers/create').body) as Record<string, Record<string, unknown>>;
  assert.equal(b2.HostConfig.NetworkMode, 'n1');
  assert.deepEqual(b2.NetworkingConfig, { EndpointsConfig: { n1: {}, n2: {} } });
  r = await tug(['run', '--add-host', 'x', 'busybox']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^invalid argument "x" for "--add-host" flag: bad format for add-host: "x"\n\nUsage: {2}tug run/);
  r = await tug(['run', '--network-alias', 'web', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "tug: network-scoped aliases are only supported for user-defined networks\n\nRun 'tug run --help' for more information\n");
});
