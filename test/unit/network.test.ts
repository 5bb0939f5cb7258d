import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NameIndex } from '../../src/services/network/names.ts';
import { networkRecordFrom, type CreateContext } from '../../src/services/network/create.ts';
import { chooseSubnet, parsePool } from '../../src/services/network/subnet.ts';
import { networkRules } from '../../src/services/network/rules.ts';
import { ApiError } from '../../src/util/errors.ts';

test('names: a container resolves names of the networks it is on, and only those', () => {
  const resolv = join(mkdtempSync(join(tmpdir(), 'tugnames-')), 'resolv.conf');
  writeFileSync(resolv, 'nameserver 10.0.0.53\nsearch corp.example\n');
  const n = new NameIndex(resolv);
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  const c = 'c'.repeat(64);
  n.add(a, { name: 'web' }, 'net1', '10.1.0.2', ['www']);
  n.add(b, { name: 'db', dns: ['9.9.9.9'] }, 'net1', '10.1.0.3');
  n.add(c, { name: 'lone' }, 'net2', '10.2.0.2');
  assert.deepEqual(n.lookup('10.1.0.3', 'www'), ['10.1.0.2']);
  assert.deepEqual(n.lookup('10.1.0.3', 'web'), ['10.1.0.2']);
  assert.deepEqual(n.lookup('10.1.0.3', a.slice(0, 12)), ['10.1.0.2'], 'the short ID');
  assert.equal(n.lookup('10.1.0.3', 'lone'), undefined, 'another network is not visible');
  assert.equal(n.lookup('10.9.9.9', 'web'), undefined, 'an unknown client gets nothing of ours');
  assert.equal(n.reverse('10.1.0.3', '10.1.0.2'), 'web');
  assert.equal(n.reverse('10.1.0.3', '10.2.0.2'), undefined);
  assert.deepEqual(n.upstreams('10.1.0.3'), ['9.9.9.9'], 'its own --dns');
  assert.deepEqual(n.upstreams('10.1.0.2'), ['10.0.0.53'], "else the host's");

  // on a second network too: both networks' names
  n.add(c, { name: 'lone' }, 'net1', '10.1.0.9');
  assert.deepEqual(n.lookup('10.1.0.9', 'web'), ['10.1.0.2']);
  assert.deepEqual(n.lookup('10.2.0.2', 'db'), ['10.1.0.3']);
  n.remove(c, 'net1');
  assert.equal(n.lookup('10.2.0.2', 'db'), undefined);
  n.remove(a);
  assert.equal(n.lookup('10.1.0.3', 'www'), undefined);
});

const ctx = (over: Partial<CreateContext> = {}): CreateContext => ({ existing: [], hostRoutes: [], pools: [parsePool({ base: '10.210.0.0/16', size: 24 })], deviceExists: () => false, ...over });
const refused = (body: object, status: number, msg: RegExp, c = ctx()) =>
  assert.throws(() => networkRecordFrom(body, c), (e: unknown) => e instanceof ApiError && e.status === status && msg.test(e.message));

test('network create: docker\'s defaults and refusals', () => {
  const n = networkRecordFrom({ Name: 'app', Labels: { a: 'b' } }, ctx({ hostRoutes: ['10.210.0.0/24'] }));
  assert.equal(n.IPAM.Config[0].Subnet, '10.210.1.0/24', 'the first pool subnet no route covers');
  assert.equal(n.IPAM.Config[0].Gateway, '10.210.1.1');
  assert.deepEqual(n.Bridges, [`br-${n.Id.slice(0, 12)}`]);
  assert.equal(networkRecordFrom({ Name: 'x', IPAM: { Config: [{ Subnet: '192.168.50.0/24', Gateway: '192.168.50.254' }] } }, ctx()).IPAM.Config[0].Gateway, '192.168.50.254');
  refused({ Name: 'app' }, 409, /already exists/, ctx({ existing: [n] }));
  refused({ Name: 'o', IPAM: { Config: [{ Subnet: '10.210.1.128/25' }] } }, 403, /overlaps/, ctx({ existing: [n] }));
  refused({ Name: 'o', IPAM: { Config: [{ Subnet: '10.300.0.0/16' }] } }, 400, /invalid subnet/);
  refused({ Name: 'o', IPAM: { Config: [{ Subnet: '10.5.0.1/16' }] } }, 400, /it should be 10\.5\.0\.0\/16/);
  refused({ Name: 'o', IPAM: { Config: [{ Subnet: '10.5.0.0/24', Gateway: '10.6.0.1' }] } }, 400, /no matching subnet for gateway/);
  refused({ Name: 'o', IPAM: { Config: [{ Subnet: '10.5.0.0/24', IPRange: '10.7.0.0/28' }] } }, 400, /within the subnet/);
  refused({ Name: 'o', Driver: 'overlay' }, 404, /plugin "overlay" not found/);
  refused({ Name: 'o', Driver: 'host' }, 403, /only one instance of "host"/);
  refused({ Name: '' }, 400, /must not be empty/);
  refused({ Name: 'o', Options: { 'com.docker.network.bridge.name': 'eth0' } }, 403, /already exists on the host/, ctx({ deviceExists: (d) => d === 'eth0' }));
  assert.throws(() => chooseSubnet(['10.0.0.0/8'], [parsePool({ base: '10.210.0.0/16', size: 24 })]), /could not find an available/);
});

test('rules: an internal network drops everything leaving its bridge and has no NAT', () => {
  const normal = networkRules('br-x', '10.1.0.0/24');
  assert.ok(normal.some((r) => r.table === 'nat' && r.spec.includes('MASQUERADE')));
  const internal = networkRules('br-x', '10.1.0.0/24', { internal: true });
  assert.ok(!internal.some((r) => r.table === 'nat'));
  assert.equal(internal.filter((r) => r.spec.at(-1) === 'DROP').length, 2);
  assert.ok(networkRules('br-x', '10.1.0.0/24', { masquerade: false }).every((r) => r.table !== 'nat'));
});

test('network create: swarm-only kinds and options this engine would not enforce are refused, not made as plain networks', () => {
  refused({ Name: 'x', Ingress: true }, 403, /ingress networks need swarm mode/);
  refused({ Name: 'x', ConfigOnly: true }, 400, /config-only networks/);
  refused({ Name: 'x', ConfigFrom: { Network: 'y' } }, 400, /--config-from/);
  refused({ Name: 'x', Scope: 'swarm' }, 400, /local networks only/);
  refused({ Name: 'x', Options: { 'com.docker.network.bridge.enable_icc': 'false' } }, 400, /enable_icc=false is not supported/);
  assert.equal(networkRecordFrom({ Name: 'x', Scope: 'local', Options: { 'com.docker.network.bridge.enable_icc': 'true' } }, ctx()).Name, 'x');
});
