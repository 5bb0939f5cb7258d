// Nothing of the network outlives what made it: 50 containers with published ports started and removed, the
// daemon killed and restarted in between, leave the rules, interfaces, namespaces and leases as they were; and a
// network that outgrows one bridge keeps every container reachable by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { TestDaemon, eventually } from '../helpers/daemon.ts';

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, r.stderr); return r.stdout; };

/** What the host holds for this daemon's containers: rules naming its bridges or containers, ports on its bridges,
 *  their namespaces and leases; the pre-made namespaces (always there, renewed as they are used) are left out. */
async function footprint(d: TestDaemon, ids: string[]) {
  const pool = await d.premade();
  const bridges = d.networks().flatMap((n) => n.Bridges);
  const rules = ['filter', 'nat', 'raw'].flatMap((t) => execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' }).split('\n'))
    .filter((l) => l.startsWith('-A ') && (bridges.some((b) => l.includes(b)) || ids.some((id) => l.includes(id))))
    .sort();
  const ports = bridges.flatMap((b) => existsSync(`/sys/class/net/${b}/brif`) ? readdirSync(`/sys/class/net/${b}/brif`) : []).filter((p) => p.startsWith('veth') && !pool.veths.has(p)).sort();
  const ipam = join(d.root, 'network/ipam');
  const leases = existsSync(ipam) ? readdirSync(ipam).flatMap((net) => readdirSync(join(ipam, net)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f) && !pool.ips.has(f))) : [];
  return { rules, ports, leases: leases.length };
}

test('50 containers with ports, the daemon killed and restarted: afterwards the host is as before', async () => {
  const d = new TestDaemon();
  await d.start();
  try {
    await d.makeImages();
    ok(d.tug(['network', 'create', 'leaknet']));
    const before = await footprint(d, []);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const net = i % 2 ? ['--network', 'leaknet'] : [];
      ids.push(ok(d.tug(['run', '-d', '-p', '80', '-p', `${41000 + i}:81/udp`, ...net, 'busybox', 'sh', '-c', 'mkdir -p /w && echo up > /w/index.html && exec httpd -f -p 80 -h /w'])).trim());
    }
    ok(d.tug(['rm', '-f', ...ids.slice(0, 20)]));
    const during = await eventually(() => footprint(d, ids), (f) => f.ports.length === 30);
    assert.equal(during.ports.length, 30);
    assert.equal(during.leases, 30);

    const sandboxes = ids.slice(20).map((id) => JSON.parse(ok(d.tug(['inspect', id])))[0].NetworkSettings.SandboxKey as string);
    assert.equal(new Set(sandboxes).size, 30);
    for (const s of sandboxes) assert.ok(existsSync(s), s);

    // a crash: the daemon goes, containers stay; the restarted daemon adopts them, ports keep working, and undoes
    // the namespaces it had made ahead (making new ones)
    const premade = (await d.premade()).netns;
    await d.kill('SIGKILL');
    await d.start();
    for (const s of premade) await eventually(() => existsSync(s), (x) => !x);
    const port = JSON.parse(ok(d.tug(['inspect', ids[49]])))[0].NetworkSettings.Ports['80/tcp'][0].HostPort;
    const body = await eventually(() => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => ''), (t) => t === 'up\n');
    assert.equal(body, 'up\n');
    assert.deepEqual(await footprint(d, ids), during, 'a restart changes nothing on the host');

    // the port of a removed container is free again, and taken ports are still refused
    const reuse = d.tug(['run', '-d', '-p', `${41000 + 0}:81/udp`, 'busybox', 'sleep', '1000']);
    ids.push(ok(reuse).trim());
    const clash = d.tug(['run', '-d', '--name', 'clash', '-p', `${41000 + 49}:81/udp`, 'busybox', 'sleep', '1000']);
    assert.match(clash.stderr, /port is already allocated/);

    ok(d.tug(['rm', '-f', 'clash', ...ids.slice(20)]));
    // teardowns of containers without ports finish in the background, within moments
    assert.deepEqual(await eventually(() => footprint(d, ids), (f) => isDeepStrictEqual(f, before)), before);
    for (const s of sandboxes) assert.ok(!existsSync(s), `${s} is gone`);
    ok(d.tug(['network', 'rm', 'leaknet']));
    const last = (await d.premade()).netns;
    await d.kill();
    for (const s of last) assert.ok(!existsSync(s), `a stopped daemon leaves no pre-made namespace: ${s}`);
  } finally {
    await d.cleanup();
  }
});

test('a network past one bridge\'s ports grows onto more bridges; every container still reaches every other by name', async () => {
  const d = new TestDaemon();
  // three ports per bridge instead of ~1000, so a handful of containers needs several bridges
  writeFileSync(join(d.dir, 'daemon.json'), JSON.stringify({ 'bridge-max-ports': 3 }));
  await d.start();
  try {
    await d.makeImages();
    ok(d.tug(['network', 'create', 'big']));
    for (let i = 1; i <= 8; i++) ok(d.tug(['run', '-d', '--name', `n${i}`, '--network', 'big', 'busybox', 'sleep', '1000']));
    const net = d.networks().find((n) => n.Name === 'big')!;
    assert.ok(net.Bridges.length >= 3, `bridges: ${net.Bridges.join(' ')}`);
    for (const b of net.Bridges) assert.ok(existsSync(`/sys/class/net/${b}`), b);
    // a peer gets three tries; a first one that failed is reported (seen once in CI for the newest container, not
    // reproduced since: the report says how it failed)
    const out = ok(d.tug(['exec', 'n1', 'sh', '-c', 'for i in 2 3 4 5 6 7 8; do for try in 1 2 3; do if ping -c1 -W2 n$i >/tmp/p 2>&1; then echo reached-n$i; break; fi; echo "try $try for n$i failed: $(tail -2 /tmp/p | tr "\\n" " ")"; done; done']));
    const retried = out.split('\n').filter((l) => l.startsWith('try '));
    if (retried.length) console.log(`# reachability needed retries: ${retried.join(' | ')}`);
    for (let i = 2; i <= 8; i++) assert.match(out, new RegExp(`reached-n${i}`));
    // n8 hangs on the last bridge: its way out goes through the first one's gateway
    assert.match(ok(d.tug(['exec', 'n8', 'sh', '-c', `(printf 'HEAD / HTTP/1.0\\r\\nHost: deb.debian.org\\r\\n\\r\\n'; sleep 2) | nc -w 5 deb.debian.org 80 | head -1`])), /^HTTP\/1\.\d \d{3}/);
    ok(d.tug(['rm', '-f', ...Array.from({ length: 8 }, (_, i) => `n${i + 1}`)]));
    ok(d.tug(['network', 'rm', 'big']));
    for (const b of net.Bridges) assert.ok(!existsSync(`/sys/class/net/${b}`), `${b} is gone`);
  } finally {
    await d.cleanup();
  }
});
