// Side-by-side benchmark: tugboat against docker (dockerd + containerd) and podman, on the same
// busybox rootfs and the same low-level runtime (runc). Run through bench/run.sh.
//
// (b) `run --rm busybox true`, BENCH_N times per client, interleaved so that drift hits all alike
// (c) BENCH_DETACHED detached `sleep 1000` containers started one after another: total time,
//     then the memory each running container costs the engine, then removal
// (d) idle memory of the daemons
//
// It starts its own tugd on a temporary socket and data root and takes everything down at the
// end, on error and on Ctrl-C: containers it made in any engine, tugd, mounts, the data root.
//
// bench/network.ts imports its engines, tugd handling and reporting helpers: main() runs only when
// this file is the entry point.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropIsolationChainIfEmpty, dropNetworkRules } from '../src/services/network/rules.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

const N = intEnv('BENCH_N', 20);
const DETACHED = intEnv('BENCH_DETACHED', 100);
export const DOCKER_CLI = process.env.BENCH_DOCKER_CLI ?? (existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker');
const DOCKERD_HOST = process.env.BENCH_DOCKERD_HOST ?? 'unix:///var/run/docker.sock';
const PODMAN_RUNTIME = process.env.BENCH_PODMAN_RUNTIME ?? 'runc';
export const ONLY = (process.env.BENCH_ENGINES ?? 'tugboat,docker,podman').split(',').map((s) => s.trim());
const TUGD_EXTRA = (process.env.BENCH_TUGD_ARGS ?? '').split(/\s+/).filter(Boolean);
// Which tugd and tug to measure (defaults: this checkout's bundles; tug run as a user runs it, through its #! line).
const TUGD_BIN = process.env.BENCH_TUGD_BIN ?? join(repo, 'dist/tugd.js');
export const TUG_CMD = process.env.BENCH_TUG ? process.env.BENCH_TUG.split(/\s+/).filter(Boolean) : [join(repo, 'dist/tug.js')];
export const runId = `tugbench-${process.pid}`;
// the benchmark's tugd gets a bridge of its own (and a free subnet), never the one of a tugd already running
const BENCH_BRIDGE = 'tugbench0';

/** Remove a bridge and the network rules tugd tagged with its name (and the isolation chain, once unused). */
export function dropBridge(bridge: string): void {
  spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  dropNetworkRules(bridge);
  dropIsolationChainIfEmpty();
}

const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// processes and memory

interface Proc { pid: number; ppid: number; comm: string; args: string[] }

function procs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(name), ppid, comm, args });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

interface Mem { rssKiB: number; pssKiB: number | null }

function memOf(pid: number): Mem {
  let rss = 0;
  let pss: number | null = null;
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const r = /^Rss:\s+(\d+) kB/m.exec(rollup);
    const p = /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (r) rss = Number(r[1]);
    if (p) pss = Number(p[1]);
  } catch {
    // no smaps_rollup on this kernel: RSS from status
  }
  if (rss === 0) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) rss = Number(m[1]);
    } catch {
      // gone
    }
  }
  return { rssKiB: rss, pssKiB: pss };
}

function memSum(pids: number[]): Mem {
  let rss = 0;
  let pss: number | null = 0;
  for (const pid of pids) {
    const m = memOf(pid);
    rss += m.rssKiB;
    pss = pss === null || m.pssKiB === null ? null : pss + m.pssKiB;
  }
  return { rssKiB: rss, pssKiB: pss };
}

function descendants(root: number, all: Proc[]): Proc[] {
  const kids = new Map<number, Proc[]>();
  for (const p of all) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const stack = [root];
  while (stack.length) {
    for (const k of kids.get(stack.pop() as number) ?? []) {
      out.push(k);
      stack.push(k.pid);
    }
  }
  return out;
}

function rootOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Signals reach node only between synchronous steps: the loops call this to let them in.
let stopping = false;

/** SIGINT/SIGTERM: the first one stops after the current step (the caller's finally cleans up), a second one leaves at once. */
export function installSignalHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) {
        say(`${sig} again: leaving without cleaning up (tugd log and temp dirs under ${tmpdir()}/${runId}-*)`);
        process.exit(130);
      }
      stopping = true;
      say(`${sig}: stopping after the current step, then cleaning up`);
    });
  }
}

export const interrupted = (): boolean => stopping;

/** A bench's entry: signals handled, a failure (or an interruption) reported and turned into the exit code. */
export function runBench(main: () => Promise<void>): void {
  installSignalHandlers();
  main().catch((err: unknown) => {
    say(stopping ? 'interrupted; cleaned up' : `failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = stopping ? 130 : 1;
  });
}
export async function checkpoint(): Promise<void> {
  await sleep(0);
  if (stopping) throw new Error('interrupted');
}

// ---------------------------------------------------------------------------------------------
// engines

export interface Cmd { argv: string[]; env?: NodeJS.ProcessEnv }

export interface RunResult { ok: boolean; ms: number; stdout: string; stderr: string; code: number | null }

export function exec(cmd: Cmd, args: string[], timeoutMs = 120_000): RunResult {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd.argv[0], [...cmd.argv.slice(1), ...args], {
    env: { ...process.env, ...cmd.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL', // a client may proxy SIGTERM to its container and keep waiting
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const stderr = (r.stderr ?? '') + (timedOut ? `timed out after ${timeoutMs / 1000} s` : r.error ? String(r.error) : '');
  return { ok: r.status === 0, ms, stdout: r.stdout ?? '', stderr, code: r.status };
}

export interface Engine {
  name: string; // tugboat, docker, podman
  cli: Cmd; // the client used for the detached test and the cleanup
  runClients: { label: string; cmd: Cmd }[]; // clients timed in (b)
  runArgs: string[]; // extra `run` flags this engine needs on this host
  version: string;
  daemonPids: () => number[]; // daemons whose growth is charged to the containers
  monitorPids: (ids: string[]) => number[]; // per-container supervisor processes
  created: Set<string>; // container ids to remove at the end
}

function idsIn(args: string[], ids: Set<string>): boolean {
  return args.some((a) => ids.has(a) || [...ids].some((id) => a.includes(id)));
}

function monitorsBy(match: (p: Proc) => boolean) {
  return (ids: string[]): number[] => {
    const set = new Set(ids);
    return procs().filter((p) => match(p) && idsIn(p.args, set)).map((p) => p.pid);
  };
}

// tugd ------------------------------------------------------------------------------------------

interface Tugd { proc: ChildProcess; sock: string; dataRoot: string; tmp: string; log: string; keepLog: boolean; bridge: string }
let tugd: Tugd | null = null;

function ping(sock: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath: sock, path: '/_ping', method: 'GET', timeout: 2000 }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(r.statusCode === 200 && body.trim() === 'OK'));
    });
    req.on('error', () => res(false));
    req.on('timeout', () => { req.destroy(); res(false); });
    req.end();
  });
}

/** Keep the benchmark tugd's log after the run (something failed against it). */
export function keepTugdLog(): void {
  if (tugd) tugd.keepLog = true;
}

async function startTugd(bridge: string, extraArgs: string[]): Promise<Tugd> {
  const bin = TUGD_BIN;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`);
  const tmp = mkdtempSync(join(tmpdir(), `${runId}-`));
  const sock = join(tmp, 'tugd.sock');
  const dataRoot = join(tmp, 'data');
  const log = join(tmpdir(), `${runId}.tugd.log`);
  const fd = openSync(log, 'w');
  const proc = spawn(bin.endsWith('.js') ? process.execPath : bin, [...(bin.endsWith('.js') ? [bin] : []), '-H', `unix://${sock}`, '--data-root', dataRoot,
    // defaults, not this host's /etc/tugboat/daemon.json; runtime state under the temp dir too
    '--config-file', join(tmp, 'daemon.json'), '--exec-root', join(tmp, 'exec'), '--bridge', bridge, ...extraArgs, ...TUGD_EXTRA], {
    stdio: ['ignore', fd, fd],
    detached: true, // its own process group, so that stray children can be ended together
  });
  closeSync(fd);
  const t: Tugd = { proc, sock, dataRoot, tmp, log, keepLog: true, bridge };
  tugd = t;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    if (existsSync(sock) && (await ping(sock))) {
      t.keepLog = !!process.env.BENCH_KEEP_LOG;
      return t;
    }
    await sleep(100);
  }
  const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
  throw new Error(`tugd did not answer /_ping on ${sock} (exit ${proc.exitCode ?? proc.signalCode ?? 'none'}); log ${log}:\n${tail}`);
}

/** A child that a signal ended has no exit code: both must be unset for it to be running. */
export const running = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

export async function stopTugd(): Promise<void> {
  const t = tugd;
  if (!t) return;
  tugd = null;
  const { proc, tmp } = t;
  if (running(proc) && proc.pid) {
    proc.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (running(proc) && Date.now() < deadline) await sleep(100);
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // group already gone
    }
  }
  // Anything still rooted in or pointing at our temp dir: container processes and their monitors.
  for (const p of procs()) {
    if (p.pid === process.pid) continue;
    if (rootOf(p.pid).startsWith(tmp) || (p.comm === 'conmon' && p.args.some((a) => a.includes(tmp)))) {
      try {
        process.kill(p.pid, 'SIGKILL');
        say(`killed leftover ${p.comm} ${p.pid}`);
      } catch {
        // gone
      }
    }
  }
  await sleep(200);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === tmp || m.startsWith(tmp + '/')))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
  dropBridge(t.bridge);
  rmSync(tmp, { recursive: true, force: true });
  if (!t.keepLog) rmSync(t.log, { force: true });
  else say(`tugd log kept: ${t.log}`);
}

// construction ---------------------------------------------------------------------------------

/** Starts the benchmark's own tugd (temporary socket and data root, bridge `bridge`, more flags) and describes it. */
export async function tugboatEngine(bridge = BENCH_BRIDGE, extraArgs: string[] = []): Promise<Engine> {
  const t = await startTugd(bridge, extraArgs);
  const host = `unix://${t.sock}`;
  const tug: Cmd = { argv: [...TUG_CMD, '-H', host] };
  const dockerToTugd: Cmd = { argv: [DOCKER_CLI], env: { DOCKER_HOST: host } };
  const v = exec(tug, ['version', '--format', '{{.Server.Version}}']);
  return {
    name: 'tugboat',
    cli: tug,
    runClients: [
      { label: 'tug → tugd', cmd: tug },
      { label: 'docker CLI → tugd', cmd: dockerToTugd },
    ],
    runArgs: [],
    version: `tugd ${v.ok ? v.stdout.trim() : '?'}`,
    daemonPids: () => {
      // tugd itself plus any long-lived helper it forked that is not a container or its monitor
      if (!t.proc.pid) return [];
      const all = procs();
      const helpers = descendants(t.proc.pid, all).filter((p) => p.comm !== 'conmon' && rootOf(p.pid) === '/');
      return [t.proc.pid, ...helpers.map((p) => p.pid)];
    },
    // conmon of our containers: named by id, or pointing into this tugd's own data root
    monitorPids: (ids) => {
      const set = new Set(ids);
      return procs().filter((p) => p.comm === 'conmon' && (idsIn(p.args, set) || p.args.some((a) => a.includes(t.tmp)))).map((p) => p.pid);
    },
    created: new Set(),
  };
}

export function dockerEngine(): Engine {
  const docker: Cmd = { argv: [DOCKER_CLI], env: { DOCKER_HOST: DOCKERD_HOST } };
  const v = exec(docker, ['version', '--format', '{{.Server.Version}}']);
  if (!v.ok) throw new Error(`dockerd is not answering on ${DOCKERD_HOST} (bash bench/install.sh starts it): ${v.stderr.trim()}`);
  return {
    name: 'docker',
    cli: docker,
    runClients: [{ label: 'docker → dockerd', cmd: docker }],
    runArgs: [],
    version: `dockerd ${v.stdout.trim()}`,
    daemonPids: () => procs().filter((p) => p.comm === 'dockerd' || p.comm === 'containerd').map((p) => p.pid),
    monitorPids: monitorsBy((p) => p.comm.startsWith('containerd-shim')),
    created: new Set(),
  };
}

export function podmanEngine(): Engine {
  const podman: Cmd = { argv: ['podman', '--runtime', PODMAN_RUNTIME] };
  const v = exec(podman, ['version', '--format', '{{.Client.Version}}']);
  if (!v.ok) throw new Error(`podman does not work: ${v.stderr.trim()}`);
  // podman asks the runtime for RLIMIT_NOFILE/NPROC values above this host's hard limits (which
  // root cannot raise here); pin them to values that fit. docker and tugd inherit theirs.
  const lim = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  const nofile = /^\d+$/.test(lim) ? lim : '1048576';
  return {
    name: 'podman',
    cli: podman,
    runClients: [{ label: `podman (${PODMAN_RUNTIME})`, cmd: podman }],
    runArgs: ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=32768:32768'],
    version: `podman ${v.stdout.trim()} (${PODMAN_RUNTIME})`,
    daemonPids: () => [],
    monitorPids: monitorsBy((p) => p.comm === 'conmon'),
    created: new Set(),
  };
}

// ---------------------------------------------------------------------------------------------
// steps

export function importBusybox(e: Engine, tar: string, ref = 'busybox:latest', cmd = '["sh"]'): void {
  const r = exec(e.cli, ['import', '--change', `CMD ${cmd}`, tar, ref]);
  if (!r.ok) throw new Error(`${e.name}: import failed: ${r.stderr.trim()}`);
}

export function removeContainers(e: Engine, ids: string[]): void {
  const rmArgs = e.name === 'podman' ? ['rm', '-f', '-t', '0'] : ['rm', '-f'];
  for (let i = 0; i < ids.length; i += 25) {
    const chunk = ids.slice(i, i + 25);
    const r = exec(e.cli, [...rmArgs, ...chunk]);
    if (!r.ok) say(`${e.name}: rm -f: ${r.stderr.trim().split('\n')[0]}`);
    for (const id of chunk) e.created.delete(id);
  }
}

export function sweep(e: Engine): void {
  // containers of this run, found by name, whatever was recorded
  const r = exec(e.cli, ['ps', '-aq', '--no-trunc', '--filter', `name=${runId}`]);
  const ids = new Set([...e.created, ...(r.ok ? r.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [])]);
  if (ids.size) removeContainers(e, [...ids]);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface RunStats { label: string; engine: string; times: number[]; failures: number; lastError: string }

async function benchRunRm(engines: Engine[]): Promise<RunStats[]> {
  const stats: RunStats[] = [];
  const clients: { e: Engine; s: RunStats; cmd: Cmd }[] = [];
  for (const e of engines) {
    for (const c of e.runClients) {
      const s = { label: c.label, engine: e.name, times: [], failures: 0, lastError: '' };
      stats.push(s);
      clients.push({ e, s, cmd: c.cmd });
    }
  }
  const once = (c: (typeof clients)[number]) => exec(c.cmd, ['run', '--rm', ...c.e.runArgs, 'busybox', 'true'], 30_000);
  // warm up: caches, lazily loaded code, the first network setup
  for (const c of clients) {
    for (let i = 0; i < 2; i++) {
      const r = once(c);
      if (!r.ok) {
        if (c.e.name === 'tugboat' && tugd) tugd.keepLog = true;
        c.s.failures++;
        c.s.lastError = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
      }
    }
  }
  for (let i = 0; i < N; i++) {
    await checkpoint();
    for (const c of clients) {
      if (c.s.failures >= 3 && c.s.times.length === 0) continue; // broken: stop hammering it
      const r = once(c);
      if (r.ok) c.s.times.push(r.ms);
      else {
        if (c.e.name === 'tugboat' && tugd) tugd.keepLog = true;
        c.s.failures++;
        c.s.lastError = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
      }
    }
    if ((i + 1) % 5 === 0) say(`run --rm: ${i + 1}/${N}`);
  }
  return stats;
}

interface DetachedStats {
  engine: string;
  started: number;
  totalMs: number;
  removeMs: number;
  monitors: number;
  monitorMem: Mem;
  daemonBefore: Mem;
  daemonAfter: Mem;
  error: string;
  /** Per client, with the containers running: medians of `exec ID true`, `stats --no-stream`, `system df`. */
  busy: BusyTimes[];
}

interface BusyTimes { label: string; engine: string; exec: number | null; stats: number | null; df: number | null; error: string }

const EXEC_N = intEnv('BENCH_EXEC_N', 20);

/** Medians of the everyday observing commands while the engine runs `ids`. */
async function benchBusy(e: Engine, ids: string[]): Promise<BusyTimes[]> {
  const res: BusyTimes[] = [];
  for (const c of e.runClients) {
    const t: BusyTimes = { label: c.label, engine: e.name, exec: null, stats: null, df: null, error: '' };
    const timed = (args: string[], n: number): number | null => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = exec(c.cmd, args, 60_000);
        if (!r.ok) { t.error = `${args[0]}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`; return null; }
        times.push(r.ms);
      }
      return median(times);
    };
    await checkpoint();
    exec(c.cmd, ['exec', ids[0], 'true']); // warm up
    t.exec = timed(['exec', ids[0], 'true'], EXEC_N);
    t.stats = timed(['stats', '--no-stream'], 3);
    t.df = timed(['system', 'df'], 3);
    res.push(t);
  }
  return res;
}

async function benchDetached(e: Engine): Promise<DetachedStats> {
  await sleep(1000);
  const daemonBefore = memSum(e.daemonPids());
  const ids: string[] = [];
  let error = '';
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < DETACHED; i++) {
    if (i % 10 === 0) await checkpoint();
    const r = exec(e.cli, ['run', '-d', '--name', `${runId}-${i}`, ...e.runArgs, 'busybox', 'sleep', '1000'], 30_000);
    const id = r.stdout.trim().split('\n').pop()?.trim() ?? '';
    if (id) e.created.add(id);
    if (!r.ok || !/^[0-9a-f]{12,64}$/.test(id)) {
      if (e.name === 'tugboat' && tugd) tugd.keepLog = true;
      error = `run -d #${i}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
      break;
    }
    ids.push(id);
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await sleep(3000); // let the daemons settle before reading memory
  const monitors = e.monitorPids(ids);
  const monitorMem = memSum(monitors);
  const daemonAfter = memSum(e.daemonPids());
  say(`${e.name}: exec, stats --no-stream and system df with ${ids.length} containers running`);
  const busy = ids.length ? await benchBusy(e, ids) : [];
  const t1 = process.hrtime.bigint();
  removeContainers(e, ids);
  const removeMs = Number(process.hrtime.bigint() - t1) / 1e6;
  return { engine: e.name, started: ids.length, totalMs, removeMs, monitors: monitors.length, monitorMem, daemonBefore, daemonAfter, error, busy };
}

// ---------------------------------------------------------------------------------------------
// report

export const f0 = (x: number) => x.toFixed(0);
export const f1 = (x: number) => x.toFixed(1);
export const f2 = (x: number) => x.toFixed(2);
const mib = (kib: number) => kib / 1024;
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? pad(c, w[i]) : lpad(c, w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function perContainer(d: DetachedStats, kind: 'rss' | 'pss'): number | null {
  if (d.started === 0) return null;
  const pick = (m: Mem) => (kind === 'rss' ? m.rssKiB : m.pssKiB);
  const mon = pick(d.monitorMem);
  const before = pick(d.daemonBefore);
  const after = pick(d.daemonAfter);
  if (mon === null || before === null || after === null) return null;
  return (mon + Math.max(0, after - before)) / d.started;
}

// ---------------------------------------------------------------------------------------------


/**
 * Start each engine asked for and `prepare` it (images, data); one that fails is listed as unavailable and taken
 * down again (its tugd stopped), so the others are still measured. `engines` is the caller's, for its cleanup.
 */
export async function startEngines(makers: Array<[string, () => Engine | Promise<Engine>]>, only: string[], engines: Engine[], unavailable: string[], prepare: (e: Engine) => void | Promise<void>): Promise<void> {
  for (const [name, make] of makers) {
    if (!only.includes(name)) continue;
    try {
      const e = await make();
      engines.push(e);
      await prepare(e);
      say(`${name}: ready, ${e.version}`);
    } catch (err) {
      const msg = (err as Error).message;
      unavailable.push(`${name}: ${msg}`);
      say(`${name}: unavailable: ${msg}`);
      const i = engines.findIndex((x) => x.name === name);
      if (i >= 0) engines.splice(i, 1);
      if (name === 'tugboat') await stopTugd();
    }
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const engines: Engine[] = [];
  const unavailable: string[] = [];
  const work = mkdtempSync(join(tmpdir(), `${runId}-work-`));
  const results: Record<string, unknown> = { n: N, detached: DETACHED };
  try {
    const tar = join(work, 'busybox.tar');
    const mk = spawnSync('bash', [join(repo, 'scripts/make-images.sh'), '--tar', 'busybox', tar], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (mk.status !== 0) throw new Error('scripts/make-images.sh --tar busybox failed');

    const makers: [string, () => Engine | Promise<Engine>][] = [
      ['tugboat', tugboatEngine],
      ['docker', dockerEngine],
      ['podman', podmanEngine],
    ];
    await startEngines(makers, ONLY, engines, unavailable, (e) => importBusybox(e, tar));
    if (engines.length === 0) throw new Error('no engine to measure');

    // (d) idle memory, before anything ran but the image import: 10 s after it, when the daemons are at rest
    // (tugd ends its idle layer worker after 5 s and trims its heaps 2 s later)
    await sleep(10_000);
    const idle = engines.filter((e) => e.name !== 'podman').map((e) => ({ engine: e.name, mem: memSum(e.daemonPids()), pids: e.daemonPids().length }));

    // (b)
    say(`run --rm busybox true, ${N} times per client, interleaved`);
    const runs = await benchRunRm(engines);

    // (c)
    const detached: DetachedStats[] = [];
    if (DETACHED > 0) {
      for (const e of engines) {
        say(`${e.name}: ${DETACHED} detached containers`);
        detached.push(await benchDetached(e));
      }
    }

    // report
    const out: string[] = [];
    out.push('');
    out.push(`tugboat benchmark — ${new Date().toISOString()}, ${N} runs per client, ${DETACHED} detached containers`);
    out.push(`engines: ${engines.map((e) => e.version).join('; ')}; docker client ${DOCKER_CLI}`);
    for (const u of unavailable) out.push(`not measured: ${u.split('\n')[0]}`);
    out.push('');
    const dockerMed = runs.find((s) => s.engine === 'docker' && s.times.length)?.times;
    const ref = dockerMed ? median(dockerMed) : null;
    out.push('(b) run --rm busybox true, wall time in ms');
    out.push(table(
      ['client → engine', 'median', 'p90', 'min', 'max', 'ok/fail', 'vs docker'],
      runs.map((s) => s.times.length
        ? [s.label, f0(median(s.times)), f0(pct(s.times, 90)), f0(Math.min(...s.times)), f0(Math.max(...s.times)), `${s.times.length}/${s.failures}`, ref ? `${f2(median(s.times) / ref)}x` : '—']
        : [s.label, '—', '—', '—', '—', `0/${s.failures}`, s.lastError.slice(0, 70)]),
    ));
    out.push('');
    if (detached.length) {
      const dref = detached.find((d) => d.engine === 'docker' && d.started === DETACHED);
      const dockerPss = dref ? perContainer(dref, 'pss') : null;
      const dockerRss = dref ? perContainer(dref, 'rss') : null;
      out.push(`(c) ${DETACHED} detached \`sleep 1000\` containers started one after another; memory per running container = (monitor processes + daemon growth) / count`);
      out.push(table(
        ['engine', 'started', 'total s', 'ms each', 'vs docker', 'monitors', 'MiB/ctr PSS', 'MiB/ctr RSS', 'daemon growth MiB', 'vs docker (PSS)', 'rm all s'],
        detached.map((d) => {
          const pss = perContainer(d, 'pss');
          const rss = perContainer(d, 'rss');
          const each = d.started ? d.totalMs / d.started : 0;
          const dEach = dref ? dref.totalMs / dref.started : null;
          return [
            d.engine, String(d.started), f1(d.totalMs / 1000), d.started ? f0(each) : '—', dEach && d.started ? `${f2(each / dEach)}x` : '—',
            String(d.monitors), pss === null ? '—' : f2(mib(pss)), rss === null ? '—' : f2(mib(rss)),
            f1(mib(d.daemonAfter.rssKiB - d.daemonBefore.rssKiB)),
            pss !== null && dockerPss ? `${f2(pss / dockerPss)}x` : rss !== null && dockerRss ? `${f2(rss / dockerRss)}x (RSS)` : '—',
            f1(d.removeMs / 1000),
          ];
        }),
      ));
      for (const d of detached) {
        if (d.error) out.push(`  ${d.engine}: stopped early: ${d.error}`);
        if (d.monitors !== d.started) out.push(`  ${d.engine}: found ${d.monitors} monitor processes for ${d.started} containers: its per-container memory is off`);
      }
      out.push('  monitors: tugboat and podman = conmon per container; docker = containerd-shim-runc-v2 per container');
      out.push('');
      const busy = detached.flatMap((x) => x.busy);
      const ref = busy.find((b) => b.engine === 'docker');
      const cell = (v: number | null, r: number | null | undefined) => (v === null ? '—' : `${f0(v)}${r ? ` (${f2(v / r)}x)` : ''}`);
      out.push(`(e) with ${DETACHED} containers running: median ms of \`exec ID true\` (${EXEC_N} runs), \`stats --no-stream\` and \`system df\` (3 runs each); ratio vs docker`);
      out.push(table(['client → engine', 'exec true', 'stats --no-stream', 'system df', 'note'],
        busy.map((b) => [b.label, cell(b.exec, ref?.exec), cell(b.stats, ref?.stats), cell(b.df, ref?.df), b.error.slice(0, 60)])));
      out.push('');
    }
    if (idle.length) {
      const dIdle = idle.find((i) => i.engine === 'docker');
      out.push('(d) idle daemon memory (tugboat: tugd; docker: dockerd + containerd; podman has no daemon)');
      out.push(table(
        ['engine', 'processes', 'RSS MiB', 'PSS MiB', 'vs docker (RSS)'],
        idle.map((i) => [i.engine, String(i.pids), f1(mib(i.mem.rssKiB)), i.mem.pssKiB === null ? '—' : f1(mib(i.mem.pssKiB)), dIdle && dIdle.mem.rssKiB ? `${f2(i.mem.rssKiB / dIdle.mem.rssKiB)}x` : '—']),
      ));
      out.push('');
    }
    out.push(`took ${f0((Date.now() - started) / 1000)} s`);
    process.stdout.write(out.join('\n') + '\n');
    Object.assign(results, { engines: engines.map((e) => e.version), unavailable, runs, detached, idle });
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2) + '\n');
  } finally {
    for (const e of engines) sweep(e);
    await stopTugd();
    rmSync(work, { recursive: true, force: true });
  }
}

// Run only as the entry point (bench/run.sh), not when bench/network.ts imports the helpers above.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runBench(main);
