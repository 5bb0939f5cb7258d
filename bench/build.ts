// Dockerfile builds side by side: tugboat against docker's legacy builder and BuildKit (both in dockerd), and
// podman when it works. Run through bench/run-build.sh; engines, the benchmark's own tugd and the report helpers
// come from bench/bench.ts.
//
// The clients: tug and the docker CLI (DOCKER_BUILDKIT=0) against tugd; the docker CLI with DOCKER_BUILDKIT=0
// against dockerd (the legacy builder); Debian's docker 20.10 CLI (BENCH_BUILDKIT_CLI, built-in BuildKit client,
// no buildx) with DOCKER_BUILDKIT=1 against dockerd; `podman build`. Each is first tried on a one-line build:
// one that fails is listed as not measured and the others go on.
//
// (1) cold build of an nginx Dockerfile on a debootstrap'd Debian bookworm minbase (the cached tar of
//     test/helpers/debian.ts, imported into every engine as tugbench-debian:bookworm): `--no-cache`, BENCH_RUNS
//     rounds, the builds one after the other (apt downloads from deb.debian.org dominate: never two at once)
// (2) the same Dockerfile fully cached: BENCH_CACHED_RUNS builds after a warm-up one; each must give the warm-up's
//     image ID again (the "cached" column)
// (3) one file changed: index.html rewritten before each of BENCH_CHANGE_RUNS builds (RUN cached, the COPYs rerun)
// (4) a context of BENCH_CTX_FILES small files under src/ plus BENCH_CTX_IGNORED files under node_modules/, which
//     .dockerignore excludes; Dockerfile `FROM tugbench-busybox` + `COPY src/ /src/`: (a) one file of src/ changed
//     before each build, so that COPY reruns; (b) nothing changed, every step cached (sending the context dominates)
// Rounds are interleaved, and the clients' order rotates from one round to the next, so that drift (and the
// mirror's mood) hits all alike. Reported: median, min and max seconds of the CLI's wall time, the spread
// ((max-min)/median), the medians against docker's legacy builder and against BuildKit, and the issue's targets.
//
// It starts its own tugd (bridge tugbenchbd0) and takes down what it made at the end, on error and on Ctrl-C:
// containers, the images it built and imported in docker and podman, tugd, the temp dirs; BuildKit's cache too
// when bench/run-build.sh started dockerd for it (TUGBENCH_OWN_DOCKERD=1), else only its dangling part.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianRootfsTar } from '../test/helpers/debian.ts';
import {
  checkpoint, dockerEngine, exec, f2, importBusybox, intEnv, runBench, keepTugdLog, median,
  ONLY, podmanEngine, runId, startEngines, stopTugd, sweep, table, tugboatEngine, DOCKER_CLI, type Cmd, type Engine, type RunResult,
} from './bench.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const RUNS = Math.max(1, intEnv('BENCH_RUNS', 3));
const CACHED_RUNS = Math.max(1, intEnv('BENCH_CACHED_RUNS', 10));
const CHANGE_RUNS = Math.max(1, intEnv('BENCH_CHANGE_RUNS', 5));
const CTX_RUNS = Math.max(1, intEnv('BENCH_CTX_RUNS', 5));
const CTX_FILES = Math.max(100, intEnv('BENCH_CTX_FILES', 20_000));
const CTX_IGNORED = intEnv('BENCH_CTX_IGNORED', 30_000);
const BUILDKIT_CLI = process.env.BENCH_BUILDKIT_CLI ?? '/usr/bin/docker';
const BRIDGE = 'tugbenchbd0';
const DEBIAN = 'tugbench-debian:bookworm';
const BUSYBOX = 'tugbench-busybox:latest';
const TAG = `${runId}-build`;

const say = (msg: string) => process.stderr.write(`[bench/build] ${msg}\n`);
/** What a failed command said: its last meaningful stderr lines, without the clients' hints and docker's deprecation notice. */
const lastLine = (r: RunResult) => r.stderr.split('\n').map((l) => l.trim())
  .filter((l) => l && !/^(Run|See) '.*--help'/.test(l) && !/^DEPRECATED:|^Install the buildx|^BuildKit is currently|^Environment-variable/.test(l))
  .slice(-2).join(' | ').slice(-300);

// ---------------------------------------------------------------------------------------------
// clients

interface Client {
  label: string;
  engine: Engine;
  kind: 'tugboat' | 'legacy' | 'buildkit' | 'podman';
  cmd: Cmd;
  /** `build` flags this client needs on this host. */
  extra: string[];
  /** Image IDs its builds produced (removed at the end). */
  images: Set<string>;
}

function clientsOf(e: Engine): Client[] {
  const c = (label: string, kind: Client['kind'], cmd: Cmd, extra: string[] = []): Client => ({ label, engine: e, kind, cmd, extra, images: new Set() });
  if (e.name === 'tugboat') {
    return e.runClients.map((rc) => (rc.cmd.argv[0] === DOCKER_CLI
      ? c(`${rc.label} (legacy)`, 'tugboat', { argv: rc.cmd.argv, env: { ...rc.cmd.env, DOCKER_BUILDKIT: '0' } })
      : c(rc.label, 'tugboat', rc.cmd)));
  }
  if (e.name === 'docker') {
    return [
      c('docker legacy → dockerd', 'legacy', { argv: e.cli.argv, env: { ...e.cli.env, DOCKER_BUILDKIT: '0' } }),
      c('BuildKit → dockerd', 'buildkit', { argv: [BUILDKIT_CLI], env: { ...e.cli.env, DOCKER_BUILDKIT: '1' } }, ['--progress', 'plain']),
    ];
  }
  // RUN needs the same rlimits as `podman run` here
  return [c('podman build', 'podman', e.cli, e.runArgs)];
}

interface Timed { times: number[]; failures: number; lastError: string; ids: string[] }
const timed = (): Timed => ({ times: [], failures: 0, lastError: '', ids: [] });

/**
 * One `build` of `dir` by `c`, tagged TAG (the intermediate containers removed even when it fails); the image ID
 * from --iidfile goes into `into` (and the client's list), a failure too.
 */
function build(c: Client, dir: string, args: string[], into: Timed, timeoutMs: number): RunResult {
  const iid = join(dir, '..', `iid-${process.pid}`);
  rmSync(iid, { force: true });
  const r = exec(c.cmd, ['build', ...c.extra, '--force-rm', '--iidfile', iid, '-t', TAG, ...args, dir], timeoutMs);
  const id = existsSync(iid) ? readFileSync(iid, 'utf8').trim() : '';
  if (id) c.images.add(id);
  if (r.ok && id) {
    into.times.push(r.ms);
    into.ids.push(id);
  } else {
    into.failures++;
    into.lastError = r.ok ? 'no image ID written' : lastLine(r);
    if (c.engine.name === 'tugboat') keepTugdLog();
    say(`${c.label}: build failed: ${into.lastError}`);
  }
  return r;
}

/** A client that failed three times without one success is left alone for the rest of the step. */
const broken = (s: Timed) => s.failures >= 3 && s.times.length === 0;

// ---------------------------------------------------------------------------------------------
// contexts

const NGINX_DOCKERFILE = `FROM ${DEBIAN}
RUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*
COPY index.html /var/www/html/
COPY conf/ /etc/nginx/conf.d/
EXPOSE 80
CMD ["nginx","-g","daemon off;"]
`;

function indexHtml(n: number): string {
  return `<!doctype html>\n<html><head><title>tugbench</title></head>\n<body><h1>build ${n}</h1><p>${'lorem ipsum '.repeat(40)}</p></body></html>\n`;
}

function makeNginxContext(dir: string): void {
  mkdirSync(join(dir, 'conf'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), NGINX_DOCKERFILE);
  writeFileSync(join(dir, 'index.html'), indexHtml(0));
  writeFileSync(join(dir, 'conf', 'bench.conf'), 'server {\n  listen 8080;\n  root /var/www/html;\n  location / { try_files $uri $uri/ =404; }\n}\n');
  writeFileSync(join(dir, 'conf', 'gzip.conf'), 'gzip_types text/plain text/css application/json application/javascript;\ngzip_min_length 256;\n');
}

/** `count` small files (100 to 1,100 bytes) in directories of 100 under `dir`; returns their bytes. */
function smallFiles(dir: string, count: number, ext: string): number {
  let bytes = 0;
  const line = 'export const value = "0123456789abcdefghijklmnopqrstuvwxyz";\n';
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `m${String(Math.floor(i / 100)).padStart(4, '0')}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    const body = `// file ${i}\n${line.repeat(1 + (i * 7919) % 18)}`;
    writeFileSync(join(sub, `f${String(i % 100).padStart(2, '0')}.${ext}`), body);
    bytes += body.length;
  }
  return bytes;
}

/** The file of src/ rewritten before each build of (4a). */
const changedFile = (dir: string) => join(dir, 'src', 'm0000', 'f00.ts');

function makeBigContext(dir: string): { files: number; bytes: number; ignored: number } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${BUSYBOX}\nCOPY src/ /src/\n`);
  writeFileSync(join(dir, '.dockerignore'), 'node_modules\n**/*.log\n');
  const bytes = smallFiles(join(dir, 'src'), CTX_FILES, 'ts');
  smallFiles(join(dir, 'node_modules'), CTX_IGNORED, 'js');
  return { files: CTX_FILES, bytes, ignored: CTX_IGNORED };
}

// ---------------------------------------------------------------------------------------------
// steps

interface Step {
  key: string;
  title: string;
  /** The issue's target: tugboat's median at most this times docker legacy's. */
  target: number;
  stats: Map<Client, Timed>;
  /** Builds that gave the reference image again (fully cached steps only). */
  cached?: Map<Client, number>;
}

function newStep(key: string, title: string, target: number, clients: Client[]): Step {
  return { key, title, target, stats: new Map(clients.map((c) => [c, timed()])) };
}

/** The clients in round `r`'s order: rotated by one each round. */
const rotated = <T>(xs: T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]);

async function rounds(step: Step, clients: Client[], n: number, one: (c: Client, s: Timed, round: number) => void): Promise<void> {
  for (let r = 0; r < n; r++) {
    for (const c of rotated(clients, r)) {
      await checkpoint();
      const s = step.stats.get(c)!;
      if (broken(s)) continue;
      one(c, s, r);
    }
    say(`${step.key} ${r + 1}/${n}: ${clients.map((c) => { const t = step.stats.get(c)!.times; return `${c.label} ${t.length ? f2(t[t.length - 1] / 1000) : '—'} s`; }).join(', ')}`);
  }
}

/** A build whose result only warms the cache; a failure is noted in the step. */
function warmUp(c: Client, dir: string, s: Timed, timeoutMs: number): string | undefined {
  const w = timed();
  build(c, dir, [], w, timeoutMs);
  if (!w.ids.length) { s.failures++; s.lastError = `warm-up: ${w.lastError}`; return undefined; }
  return w.ids[0];
}

/** Fully cached builds: a warm-up, then `n` timed ones, each checked to give the warm-up's image again. */
async function cachedStep(step: Step, clients: Client[], dir: string, n: number): Promise<void> {
  const ref = new Map<Client, string>();
  step.cached = new Map(clients.map((c) => [c, 0]));
  for (const c of clients) {
    await checkpoint();
    const id = warmUp(c, dir, step.stats.get(c)!, 900_000);
    if (id) ref.set(c, id);
  }
  const live = clients.filter((c) => ref.has(c));
  await rounds(step, live, n, (c, s) => {
    const r = build(c, dir, [], s, 300_000);
    if (r.ok && s.ids.at(-1) === ref.get(c)) step.cached!.set(c, step.cached!.get(c)! + 1);
  });
}

// ---------------------------------------------------------------------------------------------
// report

const secs = (ms: number) => f2(ms / 1000);

function stepTable(step: Step, clients: Client[]): string[] {
  const med = (kind: Client['kind']) => {
    const c = clients.find((x) => x.kind === kind);
    const t = c ? step.stats.get(c)?.times : undefined;
    return t?.length ? median(t) : undefined;
  };
  const legacy = med('legacy');
  const bk = med('buildkit');
  const ratio = (m: number, ref: number | undefined) => (ref ? `${f2(m / ref)}x` : '—');
  const head = ['client → engine', 'median s', 'min s', 'max s', 'spread', 'ok/fail', ...(step.cached ? ['cached'] : []), 'vs docker legacy', 'vs BuildKit'];
  const rows = clients.map((c) => {
    const s = step.stats.get(c)!;
    const cached = step.cached ? [`${step.cached.get(c) ?? 0}/${s.times.length}`] : [];
    if (!s.times.length) return [c.label, '—', '—', '—', '—', `0/${s.failures}`, ...cached, s.lastError.slice(0, 60), ''];
    const m = median(s.times);
    const lo = Math.min(...s.times);
    const hi = Math.max(...s.times);
    return [c.label, secs(m), secs(lo), secs(hi), `${((hi - lo) / m * 100).toFixed(0)}%`, `${s.times.length}/${s.failures}`, ...cached, ratio(m, legacy), ratio(m, bk)];
  });
  const out = [step.title, table(head, rows)];
  for (const c of clients) {
    const s = step.stats.get(c)!;
    if (s.failures && s.times.length) out.push(`  ${c.label}: ${s.failures} failed; last: ${s.lastError.slice(0, 160)}`);
  }
  return out;
}

function targets(steps: Step[], clients: Client[]): string[] {
  const legacy = clients.find((c) => c.kind === 'legacy');
  const bk = clients.find((c) => c.kind === 'buildkit');
  const tug = clients.filter((c) => c.kind === 'tugboat');
  if (!tug.length || (!legacy && !bk)) return [];
  const rows: string[][] = [];
  for (const step of steps) {
    for (const c of tug) {
      const t = step.stats.get(c)?.times ?? [];
      const l = legacy ? step.stats.get(legacy)?.times ?? [] : [];
      const b = bk ? step.stats.get(bk)?.times ?? [] : [];
      const vsL = t.length && l.length ? median(t) / median(l) : undefined;
      const vsB = t.length && b.length ? median(t) / median(b) : undefined;
      rows.push([step.key, c.label, `≤ ${f2(step.target)}x`, vsL === undefined ? '—' : `${f2(vsL)}x`, vsB === undefined ? '—' : `${f2(vsB)}x`,
        vsL === undefined ? '—' : vsL <= step.target ? 'met' : `missed by ${((vsL / step.target - 1) * 100).toFixed(0)}%`]);
    }
  }
  return ['targets: tugboat median / docker legacy median (and / BuildKit, for reference)',
    table(['step', 'client → engine', 'target', 'vs docker legacy', 'vs BuildKit', 'vs target'], rows)];
}

const shellQuote = (v: string) => (/^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The command line that reproduces this run: the BENCH_* knobs (and TMPDIR) that were set, then the script. */
function commandLine(): string {
  const knobs = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_') || k === 'TMPDIR').sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${shellQuote(v ?? '')}`);
  return [...knobs, 'bash bench/run-build.sh'].join(' ');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const engines: Engine[] = [];
  const unavailable: string[] = [];
  const clients: Client[] = [];
  const work = mkdtempSync(join(tmpdir(), `${runId}-build-`));
  try {
    say('debian bookworm minbase rootfs (debootstrap once, then cached)');
    const debianTar = debianRootfsTar();
    const busyboxTar = join(work, 'busybox.tar');
    const mk = spawnSync('bash', [join(repo, 'scripts/make-images.sh'), '--tar', 'busybox', busyboxTar], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (mk.status !== 0) throw new Error('scripts/make-images.sh --tar busybox failed');

    const nginxDir = join(work, 'nginx', 'ctx');
    makeNginxContext(nginxDir);
    say(`context of ${CTX_FILES} files in src/ and ${CTX_IGNORED} ignored ones in node_modules/`);
    const bigDir = join(work, 'big', 'ctx');
    const big = makeBigContext(bigDir);
    const probeDir = join(work, 'probe', 'ctx');
    mkdirSync(probeDir, { recursive: true });
    writeFileSync(join(probeDir, 'Dockerfile'), `FROM ${BUSYBOX}\nLABEL tugbench=probe\n`);

    const makers: [string, () => Engine | Promise<Engine>][] = [
      ['tugboat', () => tugboatEngine(BRIDGE)],
      ['docker', dockerEngine],
      ['podman', podmanEngine],
    ];
    await startEngines(makers, ONLY, engines, unavailable, (e) => {
      importBusybox(e, busyboxTar, BUSYBOX);
      importBusybox(e, debianTar, DEBIAN, '["bash"]');
    });
    if (engines.length === 0) throw new Error('no engine to measure');

    // every client tried on a one-line build first
    for (const e of engines) {
      for (const c of clientsOf(e)) {
        const p = timed();
        const r = build(c, probeDir, [], p, 120_000);
        if (p.ids.length) clients.push(c);
        else {
          unavailable.push(`${c.label}: ${r.ok ? p.lastError : lastLine(r)}`);
          say(`${c.label}: unavailable`);
        }
      }
    }
    if (!clients.length) throw new Error('no client could build');
    say(`clients: ${clients.map((c) => c.label).join(', ')}`);

    const steps: Step[] = [];
    // (1)
    const cold = newStep('cold', `(1) cold build of the nginx Dockerfile (--no-cache; apt-get from deb.debian.org), ${RUNS} rounds, builds one after the other`, 1, clients);
    steps.push(cold);
    say(`(1) cold nginx builds, ${RUNS} rounds`);
    await rounds(cold, clients, RUNS, (c, s) => { build(c, nginxDir, ['--no-cache'], s, 900_000); });

    // (2)
    const cached = newStep('cached', `(2) fully cached rebuild of the nginx Dockerfile, ${CACHED_RUNS} builds after a warm-up; cached = builds that gave the warm-up's image`, 0.5, clients);
    steps.push(cached);
    say(`(2) fully cached nginx builds, ${CACHED_RUNS} rounds`);
    await cachedStep(cached, clients, nginxDir, CACHED_RUNS);

    // (3)
    const change = newStep('one file', `(3) index.html changed before each build (RUN cached, both COPYs rerun), ${CHANGE_RUNS} rounds`, 1, clients);
    steps.push(change);
    say(`(3) one-file change, ${CHANGE_RUNS} rounds`);
    let edits = 0;
    await rounds(change, clients, CHANGE_RUNS, (c, s) => {
      writeFileSync(join(nginxDir, 'index.html'), indexHtml(++edits));
      build(c, nginxDir, [], s, 600_000);
    });

    // (4)
    const ctxTitle = `${big.files} files (${(big.bytes / 1e6).toFixed(1)} MB) in src/, ${big.ignored} more in node_modules/ excluded by .dockerignore; FROM busybox, COPY src/ /src/`;
    const fresh = newStep('ctx COPY', `(4a) context of ${ctxTitle}: one file of src/ changed before each build (COPY reruns), ${CTX_RUNS} rounds after a warm-up`, 1, clients);
    const ctxCached = newStep('ctx cached', `(4b) the same context, fully cached (sending the context dominates), ${CTX_RUNS} builds after a warm-up`, 1, clients);
    steps.push(fresh, ctxCached);
    say(`(4a) ${big.files}-file context, one file changed, ${CTX_RUNS} rounds`);
    for (const c of clients) { await checkpoint(); warmUp(c, bigDir, fresh.stats.get(c)!, 600_000); }
    await rounds(fresh, clients, CTX_RUNS, (c, s) => {
      writeFileSync(changedFile(bigDir), `// changed ${++edits}\n`);
      build(c, bigDir, [], s, 600_000);
    });
    say(`(4b) ${big.files}-file context, fully cached, ${CTX_RUNS} rounds`);
    await cachedStep(ctxCached, clients, bigDir, CTX_RUNS);

    // report
    const out: string[] = [''];
    out.push(`tugboat build benchmark — ${new Date().toISOString()}`);
    out.push(`command: ${commandLine()}`);
    out.push(`engines: ${engines.map((e) => e.version).join('; ')}; legacy-builder client ${DOCKER_CLI} (DOCKER_BUILDKIT=0), BuildKit client ${BUILDKIT_CLI} (DOCKER_BUILDKIT=1)`);
    for (const u of unavailable) out.push(`not measured: ${u.split('\n')[0]}`);
    out.push('wall time of each CLI\'s `build`, seconds; spread = (max - min) / median; ratios of medians');
    out.push('');
    for (const step of steps) out.push(...stepTable(step, clients), '');
    out.push(...targets(steps, clients), '');
    out.push(`took ${f2((Date.now() - started) / 1000)} s`);
    process.stdout.write(out.join('\n') + '\n');
    const results = {
      runs: RUNS, cachedRuns: CACHED_RUNS, changeRuns: CHANGE_RUNS, ctxRuns: CTX_RUNS, context: big, command: commandLine(),
      engines: engines.map((e) => e.version), unavailable,
      steps: steps.map((s) => ({
        key: s.key, title: s.title, target: s.target,
        clients: clients.map((c) => { const t = s.stats.get(c)!; return { label: c.label, ...t, medianMs: t.times.length ? median(t.times) : null, cached: s.cached?.get(c) }; }),
      })),
    };
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2) + '\n');
  } finally {
    for (const e of engines) {
      sweep(e);
      if (e.name === 'tugboat') continue; // tugd's data root goes as a whole
      // the images built (their untagged parents go with them), then the imported bases
      const ids = [...new Set(clients.filter((c) => c.engine === e).flatMap((c) => [...c.images]))];
      for (let i = 0; i < ids.length; i += 50) exec(e.cli, ['rmi', '-f', ...ids.slice(i, i + 50)], 300_000);
      exec(e.cli, ['rmi', '-f', TAG, BUSYBOX, DEBIAN], 300_000);
      if (e.name === 'docker') {
        const bk: Cmd = { argv: [BUILDKIT_CLI], env: { ...e.cli.env, DOCKER_BUILDKIT: '1' } };
        exec(bk, ['builder', 'prune', '-f', ...(process.env.TUGBENCH_OWN_DOCKERD === '1' ? ['-a'] : [])], 300_000);
      }
    }
    await stopTugd();
    rmSync(work, { recursive: true, force: true });
  }
}

runBench(main);
