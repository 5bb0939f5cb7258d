// The web dashboard (tugd --dashboard): nothing but its login page without the token; in a browser, a user sees
// the engine, the containers with their logs, figures and processes, a shell in one of them, and stops, starts,
// creates and removes containers, volumes and networks, which the CLI then sees too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { TestDaemon, REPO, eventually } from '../helpers/daemon.ts';
import { freePort } from '../helpers/build.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { TestRegistry } from '../helpers/registry.ts';

const d = new TestDaemon();
let port = 0;
let browser: Browser | undefined;
before(async () => {
  port = await freePort();
  await d.start(['--dashboard', `127.0.0.1:${port}`]);
  await d.makeImages();
});
after(async () => {
  await browser?.close();
  await d.cleanup();
});

const ok = (r: { code: number; stdout: string; stderr: string }) => { assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`); return r.stdout.trim(); };
const state = (name: string) => d.tug(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim();

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }
function http(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

test('without the token the dashboard answers nothing but its login page; with it, the API and no cross-site change', async () => {
  assert.equal((await http('GET', '/')).headers.location, '/login');
  const login = await http('GET', '/login');
  assert.equal(login.status, 200);
  assert.match(login.body, /<form method="post" action="\/login">/);
  const denied = await http('GET', '/api/containers/json');
  assert.equal(denied.status, 401);
  assert.match(denied.body, /log in to the dashboard first/);
  assert.equal((await http('GET', `/?token=${'0'.repeat(64)}`)).status, 401);
  // a token as long as the real one in characters but not in bytes is just wrong (it used to take the daemon down)
  const wide = `%C3%A9${'0'.repeat(63)}`;
  assert.equal((await http('GET', `/?token=${wide}`)).status, 401);
  assert.equal((await http('GET', '/api/_ping', { Cookie: `tugboat_dashboard=${'é'.repeat(64)}` })).status, 401);
  assert.equal((await d.req('GET', '/_ping')).status, 200, 'the daemon is still there');
  assert.equal((await http('POST', '/login', { 'Content-Type': 'application/x-www-form-urlencoded' }, `token=${'0'.repeat(64)}`)).status, 401);

  // `tug dashboard` prints the link; following it trades the token for a cookie
  const link = new URL(ok(d.tug(['dashboard'])));
  assert.equal(link.host, `127.0.0.1:${port}`);
  const entry = await http('GET', `${link.pathname}${link.search}`);
  assert.equal(entry.status, 303);
  assert.equal(entry.headers.location, '/');
  const cookie = String(entry.headers['set-cookie']).split(';')[0];
  assert.match(String(entry.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
  ok(d.tug(['run', '-d', '--name', 'api1', 'busybox', 'sleep', '1000']));
  const list = await http('GET', '/api/containers/json', { Cookie: cookie });
  assert.equal(list.status, 200);
  assert.deepEqual((JSON.parse(list.body) as Array<{ Names: string[] }>).map((c) => c.Names[0]), ['/api1']);
  // a change without the dashboard's own header (what a cross-site form would send) is refused and changes nothing
  const forged = await http('POST', '/api/containers/api1/stop', { Cookie: cookie });
  assert.equal(forged.status, 403);
  assert.equal(state('api1'), 'running');
  const stopped = await http('POST', '/api/containers/api1/stop?t=1', { Cookie: cookie, 'X-Tugboat-Dashboard': '1' });
  assert.equal(stopped.status, 204);
  assert.equal(state('api1'), 'exited');
  // docker's errors come through as they are
  const missing = await http('GET', '/api/containers/nosuch/json', { Cookie: cookie });
  assert.equal(missing.status, 404);
  assert.match(missing.body, /No such container: nosuch/);
  // the console's WebSocket: not without the cookie, not from another site's page, not for an exited container
  const id = ok(d.tug(['inspect', '-f', '{{.Id}}', 'api1']));
  const origin = `http://127.0.0.1:${port}`;
  assert.equal(await upgrade(id, {}), 401);
  assert.equal(await upgrade(id, { Cookie: cookie, Origin: 'http://evil.example' }), 403);
  assert.match(String(await upgrade(id, { Cookie: cookie, Origin: origin })), /^closed 4000: Container [0-9a-f]+ is not running/);
  ok(d.tug(['rm', 'api1']));
});

/** Opens /console/ID with these headers: the refusal's HTTP status, or how the open socket was closed. */
function upgrade(id: string, headers: Record<string, string>): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/console/${id}`, { headers });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('close', (code, reason) => resolve(`closed ${code}: ${reason.toString()}`));
    ws.on('error', (e) => { if (!/Unexpected server response/.test(e.message)) reject(e); });
  });
}

test('a bad --dashboard address stops tugd at once with a clear message', () => {
  const r = spawnSync(process.execPath, [`${REPO}/dist/tugd.js`, '-H', `unix://${d.dir}/other.sock`, '--data-root', `${d.dir}/other`, '--dashboard', 'nowhere'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 125);
  assert.match(r.stderr, /invalid dashboard address "nowhere": expected host:port/);
});

async function open(page: Page, hash: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${port}/${hash}`);
}

test('in a browser: the engine, a container with its logs, figures and processes; stop, start, create, remove', { timeout: 120_000 }, async () => {
  ok(d.tug(['run', '-d', '--name', 'web1', '-e', 'GREETING=hello', 'busybox', 'sh', '-c', 'echo marker-from-web1; exec sleep 1000']));
  browser = await launchBrowser();
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(ok(d.tug(['dashboard'])));
  assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');

  // home: the counts
  const containersCard = page.locator('a.card', { hasText: 'Containers' });
  await containersCard.getByText('1 running').waitFor();

  // the list, and the container's own page
  await page.getByRole('link', { name: 'Containers', exact: true }).first().click();
  const row = page.locator('tr', { hasText: 'web1' });
  await row.getByText('running', { exact: true }).waitFor();
  await row.getByRole('link', { name: 'web1' }).click();
  await page.locator('#logs', { hasText: 'marker-from-web1' }).waitFor();
  await page.locator('td', { hasText: 'GREETING' }).waitFor();
  await page.locator('.stats', { hasText: 'PIDs' }).waitFor();
  await page.locator('td', { hasText: 'sleep 1000' }).first().waitFor(); // docker top's CMD column

  // stop and start from its page
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.locator('h1 .badge', { hasText: 'exited' }).waitFor({ timeout: 20_000 });
  assert.equal(state('web1'), 'exited');
  await page.getByRole('button', { name: 'Start' }).click();
  await page.locator('h1 .badge', { hasText: 'running' }).waitFor();
  assert.equal(state('web1'), 'running');

  // a shell in the container, in the page's terminal; its exit code shows when it ends
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('#console-status', { hasText: /^connected$/ }).waitFor();
  await page.locator('#console').click();
  await page.keyboard.type('echo $((6*7)) $HOSTNAME\n');
  await page.locator('#console .xterm-rows', { hasText: `42 ${ok(d.tug(['inspect', '-f', '{{.Config.Hostname}}', 'web1']))}` }).waitFor();
  await page.keyboard.type('exit 3\n');
  await page.locator('#console-status', { hasText: 'disconnected: exited with code 3' }).waitFor();

  // a bad name is refused with docker's message, and nothing is created
  await open(page, '#/run');
  await page.fill('#run-image', 'busybox');
  await page.fill('#run-name', '-bad');
  await page.getByRole('button', { name: 'Create and start' }).click();
  await page.locator('#toast', { hasText: 'Invalid container name' }).waitFor();
  assert.equal(ok(d.tug(['ps', '-a', '--format', '{{.Names}}'])), 'web1');

  // create and start one with a command, a published port, a variable and a memory limit
  const hostPort = await freePort();
  await page.fill('#run-name', 'web2');
  await page.fill('#run-command', "sh -c 'echo \"two words\"; exec sleep 300'");
  await page.fill('#run-ports', `127.0.0.1:${hostPort}:80`);
  await page.fill('#run-env', 'MODE=dashboard');
  await page.fill('#run-memory', '64m');
  await page.getByRole('button', { name: 'Create and start' }).click();
  await page.locator('h1', { hasText: 'web2' }).waitFor();
  await page.locator('#logs', { hasText: 'two words' }).waitFor();
  assert.equal(state('web2'), 'running');
  assert.equal(ok(d.tug(['inspect', '-f', '{{.HostConfig.Memory}} {{json .HostConfig.PortBindings}} {{json .Config.Cmd}}', 'web2'])),
    `67108864 {"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"${hostPort}"}]} ["sh","-c","echo \\"two words\\"; exec sleep 300"]`);
  assert.match(ok(d.tug(['exec', 'web2', 'env'])), /MODE=dashboard/);

  // remove it (the page asks first)
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Remove' }).click();
  await page.locator('h1', { hasText: 'Containers' }).waitFor();
  await eventually(() => d.tug(['ps', '-a', '--format', '{{.Names}}']).stdout.trim(), (names) => names === 'web1');

  // volumes and networks: create, then remove
  await open(page, '#/volumes');
  await page.fill('input[name=name]', 'dashvol');
  await page.getByRole('button', { name: 'Create volume' }).click();
  await page.getByRole('cell', { name: 'dashvol', exact: true }).waitFor();
  assert.match(ok(d.tug(['volume', 'ls', '-q'])), /^dashvol$/m);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.locator('tr', { hasText: 'dashvol' }).getByRole('button', { name: 'Remove' }).click();
  await page.getByText('No volumes.').waitFor();
  assert.doesNotMatch(d.tug(['volume', 'ls', '-q']).stdout, /dashvol/);

  await open(page, '#/networks');
  await page.fill('input[name=name]', 'dashnet');
  await page.getByRole('button', { name: 'Create network' }).click();
  await page.getByRole('cell', { name: 'dashnet', exact: true }).waitFor();
  assert.match(ok(d.tug(['network', 'ls', '--format', '{{.Name}}'])), /^dashnet$/m);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.locator('tr', { hasText: 'dashnet' }).getByRole('button', { name: 'Remove' }).click();
  await eventually(() => d.tug(['network', 'ls', '--format', '{{.Name}}']).stdout, (s) => !/dashnet/.test(s));

  // images: a pull from a registry, with its progress; a missing one says why
  const registry = new TestRegistry();
  try {
    await registry.start();
    /** busybox in the registry as `name`, and no longer here under that name */
    const onlyThere = (name: string) => { for (const args of [['tag', 'busybox', name], ['push', name], ['rmi', name]]) ok(d.tug(args)); return name; };
    const ref = onlyThere(`${registry.host}/dash/bb:1`);
    await open(page, '#/images');
    await page.fill('input[name=image]', ref);
    await page.getByRole('button', { name: 'Pull' }).click();
    await page.locator('#toast', { hasText: `Pulled ${ref}` }).waitFor();
    await page.locator('pre', { hasText: `Status: Downloaded newer image for ${ref}` }).waitFor();
    await page.locator('tr', { hasText: ref }).waitFor();
    assert.match(ok(d.tug(['images', '--format', '{{.Repository}}:{{.Tag}}'])), new RegExp(`^${ref.replace(/\./g, '\\.')}$`, 'm'));
    await page.fill('input[name=image]', `${registry.host}/dash/nosuch:1`);
    await page.getByRole('button', { name: 'Pull' }).click();
    await page.locator('#toast', { hasText: /manifest unknown|not found/i }).waitFor();

    // "Add container" with an image that is not here pulls it first, as docker run does
    const other = onlyThere(`${registry.host}/dash/bb:2`);
    await open(page, '#/run');
    await page.fill('#run-image', other);
    await page.fill('#run-name', 'pulled1');
    await page.fill('#run-command', 'sleep 300');
    await page.getByRole('button', { name: 'Create and start' }).click();
    await page.locator('h1', { hasText: 'pulled1' }).waitFor();
    assert.equal(state('pulled1'), 'running');
    assert.equal(ok(d.tug(['inspect', '-f', '{{.Config.Image}}', 'pulled1'])), other);
    ok(d.tug(['rm', '-f', 'pulled1']));
  } finally { await registry.stop(); }

  // one in use cannot be removed, and says why
  await open(page, '#/images');
  const busybox = page.locator('tr', { hasText: 'busybox:latest' });
  await busybox.waitFor();
  page.once('dialog', (dialog) => void dialog.accept());
  await busybox.getByRole('button', { name: 'Remove' }).click();
  await page.locator('#toast', { hasText: /conflict|being used/ }).waitFor();
  assert.match(ok(d.tug(['images', '--format', '{{.Repository}}'])), /^busybox$/m);

  // a build from a Dockerfile typed into the page; a mistake in one is reported with its line
  await open(page, '#/build');
  await page.fill('#build-dockerfile', 'FROM busybox\nRUN echo built-in-the-page > /built\nCMD ["cat", "/built"]\n');
  await page.fill('#build-tag', 'dash/built:1');
  await page.getByRole('button', { name: 'Build' }).click();
  await page.locator('#build-output', { hasText: 'Successfully tagged dash/built:1' }).waitFor({ timeout: 60_000 });
  assert.equal(ok(d.tug(['run', '--rm', 'dash/built:1'])), 'built-in-the-page');
  await page.fill('#build-dockerfile', 'FROM busybox\nBOGUS x\n');
  await page.getByRole('button', { name: 'Build' }).click();
  await page.locator('#build-output', { hasText: /line 2.*unknown instruction: BOGUS|unknown instruction: BOGUS.*line 2/i }).waitFor();

  // events: what happened, as docker events tells it
  await open(page, '#/events');
  await page.locator('tr', { hasText: 'web2' }).filter({ hasText: 'destroy' }).first().waitFor();
  await page.locator('tr', { hasText: 'dashvol' }).filter({ hasText: 'create' }).first().waitFor();

  assert.deepEqual(errors, []);
});
