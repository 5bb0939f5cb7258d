// Networking side by side: tugboat against docker (dockerd + containerd) and podman (netavark). Run through
// bench/run-network.sh; the engines, the benchmark's own tugd and the report helpers come from bench/bench.ts.
//
// (1) network setup cost: median wall time of `run --rm busybox true` on the default network minus the same
//     with `--network none`, BENCH_N runs of each per engine, interleaved
// (2) published-port TCP throughput: `iperf3 -s` in a container (an image made of the host's iperf3 and the
//     libraries it links, over the busybox rootfs), published on 127.0.0.1 and on the host's primary
//     address; the host's `iperf3 -c` measures Gbit/s through each
// (3) BENCH_SCALE > 0: a user-defined network with BENCH_SCALE detached containers started in parallel
//     batches; from the first one, every name is looked up through the engine's DNS
//
// It starts its own tugd (bridge tugbenchnet0) and takes everything down at the end, on error and on Ctrl-C:
// containers, networks and images it made in any engine, tugd, its bridges and their iptables rules.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootfsWithHostPrograms } from '../test/helpers/hostbin.ts';
import {
  checkpoint, dockerEngine, dropBridge, exec, f0, f1, f2, importBusybox, intEnv, runBench,
  keepTugdLog, median, ONLY, podmanEngine, removeContainers, runId, startEngines, stopTugd, sweep, table, tugboatEngine,
  DOCKER_CLI, type Cmd, type Engine, type RunResult,
} from './bench.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const N = intEnv('BENCH_N', 10);
const IPERF_SECONDS = intEnv('BENCH_IPERF_SECONDS', 5);
const IPERF_RUNS = Math.max(1, intEnv('BENCH_IPERF_RUNS', 1));
const PORT_BASE = intEnv('BENCH_PORT', 25201);
const SCALE = intEnv('BENCH_SCALE', 0);
const SCALE_BATCH = Math.max(1, intEnv('BENCH_SCALE_BATCH', 10));
const BRIDGE = 'tugbenchnet0';
const IPERF_IMAGE = 'tugbench-iperf3:latest';
const NET = `${runId}-net`;

const say = (msg: string) => process.stderr.write(`[bench/network] ${msg}\n`);
/** What a failed command said: its stderr on one line, without the clients' "Run '… --help'" hints. */
const lastLine = (r: RunResult) => r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Run|See) '.*--help'/.test(l)).join(' | ').slice(-300);

/** `exec` without blocking: what the parallel batches of (3) need. */
function execAsync(cmd: Cmd, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((res) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd.argv[0], [...cmd.argv.slice(1), ...args], {
      env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', (err) => (stderr += String(err)));
    p.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (signal === 'SIGKILL') stderr += `killed (timeout ${timeoutMs / 1000} s?)`;
      res({ ok: code === 0, ms, stdout, stderr, code });
    });
  });
}

/**
 * `--bip` for the benchmark's tugd: a /16 that no route uses and that neither podman's default network
 * (10.88.0.0/16, whose bridge appears only with its first container) nor its user networks (10.89.x.0/24) nor
 * docker's (172.17+) take, so that the engines' containers do not shadow each other's routes.
 */
function benchBip(): string[] {
  if (/--bip\b/.test(process.env.BENCH_TUGD_ARGS ?? '')) return [];
  const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let b = 123; b < 200; b++) {
    if (!new RegExp(`(^|\\s)10\\.${b}\\.`, 'm').test(routes)) return ['--bip', `10.${b}.0.1/16`];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// (1) network setup cost

interface SetupStats {
  engine: string;
  bridge: number[];
  none: number[];
  failures: number;
  lastError: string;
}

async function benchSetup(engines: Engine[]): Promise<SetupStats[]> {
  const stats = engines.map((e): SetupStats => ({ engine: e.name, bridge: [], none: [], failures: 0, lastError: '' }));
  const once = (e: Engine, s: SetupStats, none: boolean, record: boolean) => {
    const r = exec(e.cli, ['run', '--rm', ...(none ? ['--network', 'none'] : []), ...e.runArgs, 'busybox', 'true'], 30_000);
    if (!r.ok) {
      if (e.name === 'tugboat') keepTugdLog();
      s.failures++;
      s.lastError = `${none ? '--network none' : 'default network'}: ${lastLine(r)}`;
    } else if (record) (none ? s.none : s.bridge).push(r.ms);
  };
  // warm up: caches, lazily loaded code, the bridge and its rules made by the first container
  engines.forEach((e, i) => { for (let k = 0; k < 2; k++) { once(e, stats[i], false, false); once(e, stats[i], true, false); } });
  for (let i = 0; i < N; i++) {
    await checkpoint();
    engines.forEach((e, j) => {
      const s = stats[j];
      if (s.failures >= 4 && s.bridge.length + s.none.length === 0) return; // broken: stop hammering it
      // alternate which goes first, so that neither always follows the other's teardown
      const order = i % 2 ? [true, false] : [false, true];
      for (const none of order) once(e, s, none, true);
    });
    if ((i + 1) % 5 === 0) say(`run --rm: ${i + 1}/${N}`);
  }
  return stats;
}

const added = (s: SetupStats): number | null => (s.bridge.length && s.none.length ? median(s.bridge) - median(s.none) : null);

// ---------------------------------------------------------------------------------------------
// (2) published-port throughput

/** A rootfs tar: the busybox one plus the host's iperf3 and its libraries. */
function buildIperfTar(busyboxTar: string, work: string): string {
  const out = join(work, 'iperf3.tar');
  const { libraries } = rootfsWithHostPrograms(busyboxTar, ['iperf3'], work, out);
  say(`iperf3 image: the host's iperf3 and ${libraries} libraries over busybox`);
  return out;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => res(true)));
  });
}

/** The host's primary IPv4 address: the source of its default route (BENCH_HOST_ADDR overrides). */
function primaryAddress(): string | null {
  if (process.env.BENCH_HOST_ADDR) return process.env.BENCH_HOST_ADDR;
  const r = spawnSync('ip', ['-4', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' });
  return /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(r.stdout ?? '')?.[1] ?? null;
}

interface Iperf { gbps: number; retransmits: number | null }

function iperfClient(addr: string, port: number, seconds: number): { res: Iperf | null; error: string } {
  const r = spawnSync('iperf3', ['-c', addr, '-p', String(port), '-t', String(seconds), '-J'], {
    encoding: 'utf8', timeout: (seconds + 30) * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20,
  });
  try {
    const j = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } } };
    if (j.error) return { res: null, error: j.error };
    const bps = j.end?.sum_received?.bits_per_second;
    if (typeof bps !== 'number') return { res: null, error: 'no sum_received in iperf3 -J output' };
    return { res: { gbps: bps / 1e9, retransmits: j.end?.sum_sent?.retransmits ?? null }, error: '' };
  } catch {
    return { res: null, error: `iperf3 exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-1)[0]}` };
  }
}

interface Target { kind: string; addr: string }
interface ThroughputStats { engine: string; kind: string; addr: string; port: number; runs: Iperf[]; error: string }

async function benchThroughput(engines: Engine[], targets: Target[]): Promise<ThroughputStats[]> {
  const cells: { e: Engine; s: ThroughputStats; id: string }[] = [];
  let port = PORT_BASE;
  for (const e of engines) {
    for (const t of targets) {
      await checkpoint();
      while (!(await portFree(port))) port++;
      const s: ThroughputStats = { engine: e.name, kind: t.kind, addr: t.addr, port, runs: [], error: '' };
      port++;
      const r = exec(e.cli, ['run', '-d', '--name', `${runId}-iperf-${t.kind}`, '-p', `${t.addr}:${s.port}:5201`, ...e.runArgs, IPERF_IMAGE, 'iperf3', '-s'], 60_000);
      const id = r.stdout.trim().split('\n').pop()?.trim() ?? '';
      if (id) e.created.add(id);
      if (!r.ok) {
        if (e.name === 'tugboat') keepTugdLog();
        s.error = `run -d -p ${t.addr}:${s.port}:5201: ${lastLine(r)}`;
      } else {
        // ready when a first, short test gets through (a proxy may accept before the server listens)
        let last = '';
        const deadline = Date.now() + 20_000;
        let up = false;
        while (Date.now() < deadline) {
          const w = iperfClient(t.addr, s.port, 1);
          if (w.res) { up = true; break; }
          last = w.error;
          await new Promise((res) => setTimeout(res, 300));
        }
        if (!up) {
          if (e.name === 'tugboat') keepTugdLog();
          const logs = exec(e.cli, ['logs', '--tail', '3', id]);
          s.error = `no iperf3 test through ${t.addr}:${s.port} within 20 s: ${last}${logs.stdout.trim() ? ` (container: ${logs.stdout.trim().split('\n').pop()})` : ''}`;
        }
      }
      cells.push({ e, s, id });
    }
  }
  for (const t of targets) {
    for (let run = 0; run < IPERF_RUNS; run++) {
      for (const c of cells) {
        if (c.s.kind !== t.kind || c.s.error) continue;
        await checkpoint();
        say(`${c.e.name}: iperf3 -c ${t.addr} -p ${c.s.port} -t ${IPERF_SECONDS}${IPERF_RUNS > 1 ? ` (${run + 1}/${IPERF_RUNS})` : ''}`);
        const r = iperfClient(t.addr, c.s.port, IPERF_SECONDS);
        if (r.res) c.s.runs.push(r.res);
        else c.s.error = r.error;
      }
    }
  }
  for (const e of engines) removeContainers(e, cells.filter((c) => c.e === e && c.id).map((c) => c.id));
  return cells.map((c) => c.s);
}

// ---------------------------------------------------------------------------------------------
// (3) many containers on a user-defined network, resolved by name

interface ScaleStats {
  engine: string;
  wanted: number;
  started: number;
  startMs: number;
  resolved: number | null;
  tried: number;
  resolveMs: number | null;
  removeMs: number;
  errors: string[];
}

/** The bridge devices a network made, for a last clean-up after its daemon is gone (tugboat). */
function bridgesOf(e: Engine, net: string): string[] {
  const r = exec(e.cli, ['network', 'inspect', net]);
  if (!r.ok) return [];
  try {
    const [n] = JSON.parse(r.stdout) as { Id?: string; Options?: Record<string, string> }[];
    const out: string[] = [];
    const named = n?.Options?.['com.docker.network.bridge.name'];
    if (named) out.push(named);
    if (n?.Id) out.push(`br-${n.Id.slice(0, 12)}`);
    return out;
  } catch {
    return [];
  }
}

const leftoverBridges = new Set<string>();

// Look each name up with busybox's nslookup (the engine's resolver from /etc/resolv.conf, 2 s per try, two tries); give up early when
// not one of the first ten answers, so that an engine without DNS fails in seconds, not minutes.
const RESOLVE_SCRIPT = `ok=0; miss=0; shown=0
for n in "$@"; do
  if nslookup -type=a -timeout=2 -retry=2 "$n" 2>/dev/null | grep -q '^Name:'; then ok=$((ok+1)); else
    miss=$((miss+1))
    if [ $shown -lt 3 ]; then echo "unresolved: $n: $(nslookup -type=a -timeout=2 -retry=2 "$n" 2>&1 | grep -v -e '^Server:' -e '^Address:' | tr '\\n' ' ' | cut -c1-160)"; shown=$((shown+1)); fi
    if [ $ok -eq 0 ] && [ $miss -ge 10 ]; then echo "gave up after $miss misses"; break; fi
  fi
done
echo "resolved $ok tried $((ok+miss))"`;

async function benchScale(e: Engine): Promise<ScaleStats> {
  const s: ScaleStats = { engine: e.name, wanted: SCALE, started: 0, startMs: 0, resolved: null, tried: 0, resolveMs: null, removeMs: 0, errors: [] };
  const fail = (msg: string) => {
    if (e.name === 'tugboat') keepTugdLog();
    s.errors.push(msg);
    say(`${e.name}: ${msg}`);
  };
  const nc = exec(e.cli, ['network', 'create', NET]);
  if (!nc.ok) {
    fail(`network create: ${lastLine(nc)}`);
    return s;
  }
  if (e.name === 'tugboat') for (const b of bridgesOf(e, NET)) leftoverBridges.add(b);
  const names: string[] = [];
  const ids: string[] = [];
  let firstError = '';
  let failed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 1; i <= SCALE; i += SCALE_BATCH) {
    await checkpoint();
    const batch = Array.from({ length: Math.min(SCALE_BATCH, SCALE - i + 1) }, (_, k) => `${runId}-c${i + k}`);
    const rs = await Promise.all(batch.map((name) =>
      execAsync(e.cli, ['run', '-d', '--name', name, '--network', NET, ...e.runArgs, 'busybox', 'sleep', '100000'], 120_000)));
    rs.forEach((r, k) => {
      const id = r.stdout.trim().split('\n').pop()?.trim() ?? '';
      if (id) e.created.add(id);
      if (r.ok && /^[0-9a-f]{12,64}$/.test(id)) {
        names.push(batch[k]);
        ids.push(id);
      } else {
        failed++;
        if (!firstError) firstError = `run -d --network ${NET} (${batch[k]}): ${lastLine(r)}`;
      }
    });
    if (ids.length === 0 && failed >= batch.length) break; // the first batch failed as a whole: the rest would too
    if (Math.floor((i - 1 + batch.length) / 100) > Math.floor((i - 1) / 100)) say(`${e.name}: ${ids.length}/${SCALE} started`);
  }
  s.startMs = Number(process.hrtime.bigint() - t0) / 1e6;
  s.started = ids.length;
  if (failed) fail(`${failed} of ${SCALE} did not start; first: ${firstError}`);
  if (names.length) {
    await checkpoint();
    say(`${e.name}: resolving ${names.length} names from ${names[0]}`);
    const r = exec(e.cli, ['exec', names[0], 'sh', '-c', RESOLVE_SCRIPT, 'sh', ...names], 600_000);
    const m = /resolved (\d+) tried (\d+)/.exec(r.stdout);
    if (m) {
      s.resolved = Number(m[1]);
      s.tried = Number(m[2]);
      s.resolveMs = r.ms;
      for (const l of r.stdout.split('\n').filter((x) => x.startsWith('unresolved') || x.startsWith('gave up'))) s.errors.push(l.trim());
      if (s.resolved < names.length && e.name === 'tugboat') keepTugdLog();
    } else {
      fail(`exec nslookup loop in ${names[0]}: ${lastLine(r) || r.stdout.trim().split('\n').slice(-1)[0]}`);
    }
  }
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < ids.length; i += 100) {
    await checkpoint();
    removeContainers(e, ids.slice(i, i + 100));
  }
  s.removeMs = Number(process.hrtime.bigint() - t1) / 1e6;
  if (e.name === 'tugboat') for (const b of bridgesOf(e, NET)) leftoverBridges.add(b);
  const nr = exec(e.cli, ['network', 'rm', NET]);
  if (!nr.ok) fail(`network rm: ${lastLine(nr)}`);
  return s;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const engines: Engine[] = [];
  const unavailable: string[] = [];
  const work = mkdtempSync(join(tmpdir(), `${runId}-net-`));
  const results: Record<string, unknown> = { n: N, iperfSeconds: IPERF_SECONDS, iperfRuns: IPERF_RUNS, scaleContainers: SCALE };
  try {
    const tar = join(work, 'busybox.tar');
    const mk = spawnSync('bash', [join(repo, 'scripts/make-images.sh'), '--tar', 'busybox', tar], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (mk.status !== 0) throw new Error('scripts/make-images.sh --tar busybox failed');
    const iperfTar = buildIperfTar(tar, work);

    const makers: [string, () => Engine | Promise<Engine>][] = [
      ['tugboat', () => tugboatEngine(BRIDGE, benchBip())],
      ['docker', dockerEngine],
      ['podman', podmanEngine],
    ];
    await startEngines(makers, ONLY, engines, unavailable, (e) => {
      importBusybox(e, tar);
      importBusybox(e, iperfTar, IPERF_IMAGE, '["iperf3","-s"]');
    });
    if (engines.length === 0) throw new Error('no engine to measure');

    // (1)
    let setup: SetupStats[] = [];
    if (N > 0) {
      say(`(1) run --rm busybox true, default network and --network none, ${N} times each per engine, interleaved`);
      setup = await benchSetup(engines);
    }

    // (2)
    let throughput: ThroughputStats[] = [];
    if (IPERF_SECONDS > 0) {
      const targets: Target[] = [{ kind: 'loopback', addr: '127.0.0.1' }];
      const primary = primaryAddress();
      if (primary) targets.push({ kind: 'primary', addr: primary });
      else say('(2) no primary IPv4 address found (no default route): measuring 127.0.0.1 only');
      say(`(2) iperf3 through published ports: ${targets.map((t) => t.addr).join(', ')}`);
      throughput = await benchThroughput(engines, targets);
    }

    // (3)
    const scale: ScaleStats[] = [];
    if (SCALE > 0) {
      for (const e of engines) {
        say(`(3) ${e.name}: ${SCALE} containers on user network ${NET}, batches of ${SCALE_BATCH}`);
        scale.push(await benchScale(e));
      }
    }

    // report
    const out: string[] = [''];
    out.push(`tugboat network benchmark — ${new Date().toISOString()}`);
    out.push(`engines: ${engines.map((e) => e.version).join('; ')}; docker client ${DOCKER_CLI}`);
    for (const u of unavailable) out.push(`not measured: ${u.split('\n')[0]}`);
    out.push('');
    const ratio = (x: number | null | undefined, ref: number | null | undefined) => (x != null && ref ? `${f2(x / ref)}x` : '—');
    if (setup.length) {
      const dref = setup.find((s) => s.engine === 'docker');
      out.push(`(1) network setup cost: median ms of \`run --rm busybox true\` on the default network minus with --network none (${N} runs each, interleaved)`);
      out.push(table(['engine', 'default', 'none', 'added', 'ok/fail', 'added vs docker'],
        setup.map((s) => {
          const a = added(s);
          return s.bridge.length && s.none.length
            ? [s.engine, f0(median(s.bridge)), f0(median(s.none)), f1(a as number), `${s.bridge.length + s.none.length}/${s.failures}`, ratio(a, dref ? added(dref) : null)]
            : [s.engine, '—', '—', '—', `${s.bridge.length + s.none.length}/${s.failures}`, s.lastError.slice(0, 70)];
        })));
      for (const s of setup) if (s.failures && (s.bridge.length || s.none.length)) out.push(`  ${s.engine}: ${s.failures} failed runs; last: ${s.lastError.slice(0, 120)}`);
      const tug = setup.find((s) => s.engine === 'tugboat');
      const ta = tug ? added(tug) : null;
      if (ta !== null) out.push(`  target: tugboat's added cost ≤ 15 ms: ${ta <= 15 ? 'met' : 'NOT met'} (${f1(ta)} ms)`);
      out.push('');
    }
    if (throughput.length) {
      out.push(`(2) published-port TCP throughput, Gbit/s received: host \`iperf3 -c ADDR -p PORT -t ${IPERF_SECONDS}\` → \`iperf3 -s\` in a container published as ADDR:PORT:5201${IPERF_RUNS > 1 ? ` (median of ${IPERF_RUNS})` : ''}`);
      const gbps = (s: ThroughputStats) => (s.runs.length ? median(s.runs.map((r) => r.gbps)) : null);
      out.push(table(['engine', 'address', 'Gbit/s', 'retransmits', 'vs docker', 'note'],
        throughput.map((s) => {
          const ref = throughput.find((d) => d.engine === 'docker' && d.kind === s.kind);
          const g = gbps(s);
          const rt = s.runs.map((r) => r.retransmits).filter((x): x is number => x !== null);
          return [s.engine, `${s.addr}:${s.port}`, g === null ? '—' : f2(g), rt.length ? String(median(rt)) : '—', ratio(g, ref ? gbps(ref) : null), s.error.slice(0, 90)];
        })));
      for (const kind of new Set(throughput.map((s) => s.kind))) {
        const t = throughput.find((s) => s.engine === 'tugboat' && s.kind === kind);
        const d = throughput.find((s) => s.engine === 'docker' && s.kind === kind);
        const tg = t ? gbps(t) : null;
        const dg = d ? gbps(d) : null;
        if (tg !== null && dg !== null) out.push(`  target (${kind}): tugboat ≥ docker: ${tg >= dg ? 'met' : 'NOT met'} (${f2(tg)} vs ${f2(dg)} Gbit/s)`);
      }
      out.push('');
    }
    if (scale.length) {
      const dref = scale.find((s) => s.engine === 'docker');
      out.push(`(3) ${SCALE} detached containers on a user-defined network (parallel batches of ${SCALE_BATCH}), then every name looked up from the first (busybox nslookup)`);
      out.push(table(['engine', 'started', 'start all s', 'ms each', 'vs docker', 'resolved', 'lookup s', 'rm all s'],
        scale.map((s) => [
          s.engine, `${s.started}/${s.wanted}`, s.started ? f1(s.startMs / 1000) : '—', s.started ? f1(s.startMs / s.started) : '—',
          s.started && dref?.started ? ratio(s.startMs / s.started, dref.startMs / dref.started) : '—',
          s.resolved === null ? 'FAILED' : `${s.resolved}/${s.started}${s.tried < s.started ? ` (${s.tried} tried)` : ''}`,
          s.resolveMs === null ? '—' : f1(s.resolveMs / 1000), s.started ? f1(s.removeMs / 1000) : '—',
        ])));
      for (const s of scale) for (const err of s.errors.slice(0, 5)) out.push(`  ${s.engine}: ${err.slice(0, 200)}`);
      out.push('');
    }
    out.push(`took ${f0((Date.now() - started) / 1000)} s`);
    process.stdout.write(out.join('\n') + '\n');
    Object.assign(results, { engines: engines.map((e) => e.version), unavailable, setup: setup.map((s) => ({ ...s, added: added(s) })), throughput, scale });
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2) + '\n');
  } finally {
    for (const e of engines) {
      sweep(e);
      exec(e.cli, ['network', 'rm', NET]); // if (3) stopped half-way; an error when there is none
      if (e.name !== 'tugboat') exec(e.cli, ['rmi', IPERF_IMAGE]); // tugd's data root goes as a whole
    }
    await stopTugd();
    for (const b of leftoverBridges) dropBridge(b);
    rmSync(work, { recursive: true, force: true });
  }
}

runBench(main);
