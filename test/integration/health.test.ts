// Health checks: HEALTHCHECK from the image and --health-* flags, status transitions, ps, events, bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { TestDaemon, REPO, eventually } from '../helpers/daemon.ts';

const d = new TestDaemon();
before(async () => { await d.start(); await d.makeImages(); });
after(async () => { await d.cleanup(); });

interface Health { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string; Start: string; End: string }> }
const health = (name: string): Health | undefined => JSON.parse(d.tug(['inspect', name]).stdout)[0].State.Health;

test('starting → healthy → unhealthy, with ps, docker ps, the health filter and health_status events', async () => {
  const events = spawn(process.execPath, [`${REPO}/dist/tug.js`, '-H', d.host, 'events', '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  let seen = '';
  events.stdout.on('data', (b: Buffer) => { seen += b.toString(); });
  try {
    const r = d.tug(['run', '-d', '--name', 'hc', '--health-cmd', 'test -e /tmp/ok && echo fine', '--health-interval', '300ms', '--health-retries', '2',
      'busybox', 'sh', '-c', 'touch /tmp/ok; sleep 1000']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(health('hc')?.Status, 'starting');
    assert.match(d.tug(['ps', '--filter', 'name=hc']).stdout, /\(health: starting\)/);

    await eventually(() => health('hc')?.Status, (s) => s === 'healthy');
    const h = health('hc')!;
    assert.equal(h.FailingStreak, 0);
    assert.equal(h.Log.at(-1)?.ExitCode, 0);
    assert.match(h.Log.at(-1)?.Output ?? '', /fine/);
    assert.match(d.tug(['ps', '--filter', 'name=hc']).stdout, /Up .* \(healthy\)/);
    assert.match(d.docker(['ps', '--filter', 'name=hc']).stdout, /\(healthy\)/);
    assert.match(d.tug(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']).stdout, /^hc$/m);

    assert.equal(d.tug(['exec', 'hc', 'rm', '/tmp/ok']).code, 0);
    await eventually(() => health('hc')?.Status, (s) => s === 'unhealthy');
    const u = health('hc')!;
    assert.ok(u.FailingStreak >= 2, `streak ${u.FailingStreak}`);
    assert.notEqual(u.Log.at(-1)?.ExitCode, 0);
    await eventually(() => health('hc')?.Log.length ?? 0, (n) => n === 5);
    await new Promise((res) => setTimeout(res, 700));
    assert.equal(health('hc')?.Log.length, 5, 'only the last 5 results are kept');
    assert.match(d.tug(['ps', '--filter', 'name=hc']).stdout, /\(unhealthy\)/);
    assert.match(d.tug(['inspect', '-f', '{{.State.Health.Status}}', 'hc']).stdout, /^unhealthy$/m);
    await eventually(() => seen, (s) => /health_status: healthy hc/.test(s) && /health_status: unhealthy hc/.test(s));
  } finally {
    events.kill();
  }
  assert.equal(d.tug(['rm', '-f', 'hc']).code, 0);
});

test('HEALTHCHECK in the image config is used; --no-healthcheck turns it off; a probe past its timeout fails', async () => {
  // an image with a HEALTHCHECK: busybox's files under a config that has one
  const imp = spawn('bash', ['-c', `bash ${REPO}/scripts/make-images.sh --tar busybox ${d.dir}/bb.tar && node ${REPO}/dist/tug.js -H ${d.host} import --change 'CMD ["sleep","1000"]' --change 'HEALTHCHECK --interval=300ms --retries=1 CMD ["true"]' ${d.dir}/bb.tar checked:1`]);
  const code = await new Promise<number | null>((res) => imp.on('exit', res));
  assert.equal(code, 0);
  const cfg = JSON.parse(d.tug(['image', 'inspect', 'checked:1']).stdout)[0].Config.Healthcheck;
  assert.deepEqual(cfg.Test, ['CMD', 'true']);
  assert.equal(cfg.Interval, 300e6);

  assert.equal(d.tug(['run', '-d', '--name', 'fromimage', 'checked:1']).code, 0);
  await eventually(() => health('fromimage')?.Status, (s) => s === 'healthy');

  assert.equal(d.tug(['run', '-d', '--name', 'nocheck', '--no-healthcheck', 'checked:1']).code, 0);
  await new Promise((res) => setTimeout(res, 800));
  assert.equal(health('nocheck'), undefined);
  assert.doesNotMatch(d.tug(['ps', '--filter', 'name=nocheck']).stdout, /health/);

  // the container's flags override the image's check field by field
  assert.equal(d.tug(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-timeout', '300ms', 'checked:1']).code, 0);
  await eventually(() => health('slow')?.Status, (s) => s === 'unhealthy', 15000);
  const last = health('slow')!.Log.at(-1)!;
  assert.equal(last.ExitCode, -1);
  assert.match(last.Output, /Health check exceeded timeout \(0\.3s\)/);
  assert.equal(d.tug(['rm', '-f', 'fromimage', 'nocheck', 'slow']).code, 0);
});

test('health check bad input: too short an interval, negative retries, conflicting flags, unknown health filter', async () => {
  const short = d.tug(['run', '-d', '--health-cmd', 'true', '--health-interval', '10us', 'busybox', 'true']);
  assert.equal(short.code, 125);
  assert.match(short.stderr, /Interval in Healthcheck cannot be less than 1ms/);
  const neg = d.tug(['run', '-d', '--health-cmd', 'true', '--health-retries', '-1', 'busybox', 'true']);
  assert.notEqual(neg.code, 0);
  assert.match(neg.stderr, /--health-retries cannot be negative/);
  const both = d.tug(['run', '-d', '--no-healthcheck', '--health-cmd', 'true', 'busybox', 'true']);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /--no-healthcheck conflicts with --health-\* options/);
  const bad = d.tug(['run', '-d', '--health-interval', 'soon', 'busybox', 'true']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid duration "soon"/);
  const f = d.tug(['ps', '--filter', 'health=great']);
  assert.notEqual(f.code, 0);
  assert.match(f.stderr, /Unrecognised filter value for health: great/);
  assert.equal(d.tug(['ps', '-aq']).stdout.trim(), '', 'nothing half-made is left');
});
