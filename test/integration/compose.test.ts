// docker-compose (1.29, through docker-py) runs an app on tugd: up with a project network, a named volume, a
// published port, a health check and a service that reaches another by name; ps, exec, logs; down leaves nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, eventually } from '../helpers/daemon.ts';
import { composeIn, freePort } from '../helpers/build.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`); return r.stdout; };

test('docker-compose up, ps, exec, logs and down -v: two services, a network, a volume, a port and a health check', { timeout: 120_000 }, async () => {
  const dir = join(d.dir, 'shop');
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'docker-compose.yml'), `version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www'
    ports: ["127.0.0.1:${port}:8080"]
    volumes: ["data:/data"]
    environment: [GREETING=hi]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "-", "http://localhost:8080/"]
      interval: 1s
  client:
    image: busybox
    command: sh -c 'until wget -q -O - http://web:8080/; do sleep 0.2; done; exec sleep 1000'
    depends_on: [web]
volumes:
  data: {}
`);
  // compose connects each container to the project network after creating it (with its aliases), so it first
  // disconnects the created container from the network it was created on, then connects it again
  ok(composeIn(d, dir, ['up', '-d']));
  const ps = ok(composeIn(d, dir, ['ps']));
  // each container once: compose lists them with two label filters, which must both hold
  assert.equal(ps.match(/shop_web_1/g)?.length, 1, ps);
  assert.equal(ps.match(/shop_client_1/g)?.length, 1, ps);
  assert.match(ps, new RegExp(`127\\.0\\.0\\.1:${port}->8080/tcp`));
  assert.equal((await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())).trim(), 'hello-from-web');
  assert.equal(ok(composeIn(d, dir, ['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING'])).trim(), 'hi');
  await eventually(() => composeIn(d, dir, ['logs', 'client']).stdout, (s) => s.includes('hello-from-web'));
  await eventually(() => composeIn(d, dir, ['ps']).stdout, (s) => /\(healthy\)/.test(s));
  const nets = JSON.parse(ok(d.tug(['inspect', 'shop_client_1'])))[0].NetworkSettings.Networks;
  assert.deepEqual(Object.keys(nets), ['shop_default']);

  ok(composeIn(d, dir, ['down', '-v']));
  assert.equal(ok(d.tug(['ps', '-aq'])).trim(), '');
  assert.doesNotMatch(ok(d.tug(['network', 'ls', '--format', '{{.Name}}'])), /shop_default/);
  assert.doesNotMatch(ok(d.tug(['volume', 'ls', '--format', '{{.Name}}'])), /shop_data/);
});
