// A real tugd for integration tests: its own data root, socket and runtime state, cleaned up after.
import { hostRoutes, overlaps } from '../../src/services/network/subnet.ts';
import { dropIsolationChainIfEmpty, dropNetworkRules } from '../../src/services/network/rules.ts';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync, createReadStream } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

let daemons = 0;

/** A /24 in 10.150.0.0–10.199.255.0 that no route of the host covers. */
function freeTestSubnet(): string {
  const routes = hostRoutes();
  for (let i = 0; i < 1000; i++) {
    const net = `10.${150 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}.0/24`;
    if (!routes.some((r) => overlaps(r, net))) return net.replace(/\.0\/24$/, '.1/24');
  }
  throw new Error('no free test subnet');
}
const TUGD = join(REPO, 'dist/tugd.js');
const TUG = join(REPO, 'dist/tug.js');
export const DOCKER = '/usr/local/bin/docker';

export interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json<T = unknown>(): T }
export interface Run { code: number; stdout: string; stderr: string }

export class TestDaemon {
  proc?: ChildProcess;
  readonly dir: string;
  readonly root: string;
  readonly socket: string;
  logs = '';
  /** Set while the test stops the daemon on purpose: any other exit is reported with the daemon's last words. */
  private stopping = false;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'tugtest-'));
    this.root = join(this.dir, 'root');
    this.socket = join(this.dir, 'tugd.sock');
  }

  get host(): string { return `unix://${this.socket}`; }

  /** Its own bridge device and subnet, so that daemons of tests running side by side never meet. */
  readonly bridge = `tt${process.pid.toString(36)}${(++daemons).toString(36)}`.slice(0, 15);
  private bip = '';
  /** Subnets of its user-defined networks come from a /20 of its own. */
  private pool = `base=10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 16) * 16}.0/20,size=24`;

  async start(extra: string[] = []): Promise<void> {
    if (!this.bip) this.bip = freeTestSubnet();
    this.proc = spawn(process.execPath, [TUGD, '-H', this.host, '--data-root', this.root, '--config-file', join(this.dir, 'daemon.json'), '--bridge', this.bridge, '--bip', this.bip, '--default-address-pool', this.pool, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr?.on('data', (d: Buffer) => { this.logs += d.toString(); });
    this.stopping = false;
    this.proc.once('exit', (code, signal) => {
      if (this.stopping) return;
      // a moment for the last lines still in the pipe
      setTimeout(() => {
        const tail = this.logs.trimEnd().split('\n').slice(-40).join('\n');
        process.stderr.write(`\ntugd (${this.socket}) exited unexpectedly (${code ?? signal}); its last log lines:\n${tail}\n\n`);
      }, 200).unref();
    });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`tugd exited: ${this.logs}`);
      try { if ((await this.req('GET', '/_ping')).status === 200) return; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`tugd did not answer: ${this.logs}`);
  }

  /** Stop the daemon process only (containers keep running under conmon). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.stopping = true;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    return new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      const r = request({ socketPath: this.socket, method, path, headers: { ...(payload && !Buffer.isBuffer(body) ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: b, json: <T>() => JSON.parse(b.toString()) as T });
        });
      });
      r.on('error', reject);
      r.end(payload);
    });
  }

  /** Run the tug CLI against this daemon. */
  tug(args: string[], input?: string | Buffer, env: Record<string, string> = {}): Run {
    const r = spawnSync(process.execPath, [TUG, '-H', this.host, ...args], { input: input === undefined ? undefined : Buffer.from(input), timeout: 60000, env: { ...process.env, ...env } });
    return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  /** The tug CLI without blocking the event loop (for tests that serve something in-process meanwhile). */
  tugAsync(args: string[]): Promise<Run> {
    return new Promise((resolvePromise) => {
      const p = spawn(process.execPath, [TUG, '-H', this.host, ...args]);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
      p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      p.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Run the real docker CLI against this daemon. */
  docker(args: string[], input?: string | Buffer): Run {
    const r = spawnSync(DOCKER, args, { input: input === undefined ? undefined : Buffer.from(input), timeout: 60000, env: { ...process.env, DOCKER_HOST: this.host, DOCKER_CONFIG: join(this.dir, 'docker-config') } });
    return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  /** busybox:latest and hello-world:latest, built by the project's own image script. */
  async makeImages(): Promise<void> {
    for (const name of ['busybox', 'hello-world']) {
      const tar = join(this.dir, `${name}.tar`);
      execFileSync('bash', [join(REPO, 'scripts/make-images.sh'), '--tar', name, tar]);
      const changes = name === 'busybox' ? ['CMD ["sh"]'] : ['CMD ["/hello"]'];
      const q = new URLSearchParams({ fromSrc: '-', repo: name, tag: 'latest' });
      for (const c of changes) q.append('changes', c);
      const res = await this.reqStream('POST', `/images/create?${q}`, tar);
      if (res.status !== 200) throw new Error(`import ${name}: ${res.status} ${res.body}`);
    }
  }

  reqStream(method: string, path: string, file: string): Promise<Res> {
    return new Promise((resolvePromise, reject) => {
      const r = request({ socketPath: this.socket, method, path, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { const b = Buffer.concat(chunks); resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: b, json: <T>() => JSON.parse(b.toString()) as T }); });
      });
      r.on('error', reject);
      createReadStream(file).pipe(r);
    });
  }

  /** The network records in its data root (bridge networks list their devices). */
  networks(): Array<{ Id: string; Name: string; Bridges: string[] }> {
    const dir = join(this.root, 'network/networks');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { Id: string; Name: string; Bridges: string[] });
  }

  /** The namespaces it makes ahead of time (per bridge network), once all are made: their netns paths, host-side
   *  veths and addresses, which tests counting what containers leave behind must leave out. */
  async premade(perNetwork = 2): Promise<{ netns: string[]; veths: Set<string>; ips: Set<string> }> {
    type Entry = { netns: string; links: Array<{ result?: { interfaces?: Array<{ name: string; sandbox?: string }>; ips?: Array<{ address: string }> } }> };
    const dir = join(this.root, 'network/pool');
    const read = () => (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.json')).map((f) => { try { return JSON.parse(readFileSync(join(dir, f), 'utf8')) as Entry; } catch { return undefined; } });
    const want = perNetwork * this.networks().filter((n) => n.Bridges?.length).length;
    const list = await eventually(read, (l) => l.length === want && l.every((e) => e?.links[0]?.result)) as Entry[];
    if (list.length !== want) throw new Error(`expected ${want} pre-made namespaces, found ${list.length}`);
    const links = list.flatMap((e) => e.links);
    return {
      netns: list.map((e) => e.netns),
      veths: new Set(links.flatMap((l) => (l.result?.interfaces ?? []).filter((i) => !i.sandbox).map((i) => i.name))),
      ips: new Set(links.flatMap((l) => (l.result?.ips ?? []).map((i) => i.address.split('/')[0]))),
    };
  }

  /** Remove every container, stop the daemon, and leave no mount, cgroup or file behind. */
  async cleanup(): Promise<void> {
    try {
      if (this.proc && this.proc.exitCode === null) {
        const list = (await this.req('GET', '/containers/json?all=1')).json<Array<{ Id: string }>>();
        await Promise.all(list.map((c) => this.req('DELETE', `/containers/${c.Id}?force=1&v=1`)));
      }
    } catch { /* daemon gone */ }
    await this.kill();
    // containers left by a test that killed the daemon: kill their conmon and runc state
    if (existsSync(join(this.root, 'run/runc'))) spawnSync('sh', ['-c', `for id in $(ls ${join(this.root, 'run/runc')}); do runc --root ${join(this.root, 'run/runc')} delete -f $id; done`]);
    // namespaces of containers and pre-made ones a killed daemon could not undo
    for (const sub of ['endpoints', 'pool']) {
      const dir = join(this.root, 'network', sub);
      for (const f of existsSync(dir) ? readdirSync(dir) : []) {
        try { spawnSync('ip', ['netns', 'delete', (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { netns: string }).netns.split('/').pop()!], { stdio: 'ignore' }); } catch { /* half-written */ }
      }
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(this.dir));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    spawnSync('sh', ['-c', `for d in /sys/fs/cgroup/*/tugboat /sys/fs/cgroup/tugboat; do [ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -empty -newer ${this.dir} -exec rmdir {} + 2>/dev/null; done; true`]);
    spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
    dropNetworkRules(this.bridge);
    // networks a test left, with every bridge they grew onto and the veth joining it to the first
    for (const n of this.networks()) {
      n.Bridges.forEach((b, i) => spawnSync('ip', ['link', 'del', i === 0 ? b : `tb${n.Id.slice(0, 8)}a${i}`], { stdio: 'ignore' }));
      for (const b of n.Bridges.slice(1)) spawnSync('ip', ['link', 'del', b], { stdio: 'ignore' });
      if (n.Bridges[0]) dropNetworkRules(n.Bridges[0]);
    }
    dropIsolationChainIfEmpty();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function withDaemon<T>(fn: (d: TestDaemon) => Promise<T>): Promise<T> {
  const d = new TestDaemon();
  await d.start();
  try { return await fn(d); } finally { await d.cleanup(); }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) { await sleep(50); v = await fn(); }
  return v;
}
