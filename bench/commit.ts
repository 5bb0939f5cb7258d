// `commit` side by side: tugboat against docker (and podman when asked). Run through bench/run-commit.sh;
// engines, the benchmark's own tugd and the report helpers come from bench/bench.ts.
//
// Each round, per client (interleaved so drift hits all alike): a busybox container writes BENCH_COMMIT_MB of
// random data in BENCH_COMMIT_FILES files and exits; after a `sync`, the wall time of the client's `commit`
// of that stopped container is measured; the new image is run once to check the data is there, then the
// image and the container are removed. The clients: tug and the docker CLI against tugd (the same client as
// docker's row: the daemons alone compared), docker against dockerd. Reported: median and best seconds per
// client, and the medians against docker's.
//
// It starts its own tugd (bridge tugbenchcm0) and takes everything down at the end, on error and on Ctrl-C:
// containers and images it made in any engine, tugd, its bridge, the temp dirs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkpoint, dockerEngine, exec, f2, importBusybox, intEnv, runBench, keepTugdLog,
  median, podmanEngine, runId, startEngines, stopTugd, sweep, table, tugboatEngine, DOCKER_CLI, type Cmd, type Engine,
} from './bench.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const N = Math.max(1, intEnv('BENCH_N', 5));
const MB = Math.max(1, intEnv('BENCH_COMMIT_MB', 100));
const FILES = Math.max(1, intEnv('BENCH_COMMIT_FILES', 100));
const ENGINES = (process.env.BENCH_ENGINES ?? 'tugboat,docker').split(',').map((s) => s.trim());
const BRIDGE = 'tugbenchcm0';
const IMAGE = `${runId}-busybox:latest`;

const say = (msg: string) => process.stderr.write(`[bench/commit] ${msg}\n`);
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

interface CommitStats { label: string; engine: string; times: number[]; failures: number; lastError: string }

/** The container's writes: FILES files of random bytes (incompressible, nothing to deduplicate). */
function writerScript(): string {
  const bytes = Math.floor((MB * 1024 * 1024) / FILES);
  return `mkdir -p /data && i=0; while [ $i -lt ${FILES} ]; do head -c ${bytes} /dev/urandom > /data/f$i; i=$((i+1)); done; sync`;
}

async function round(e: Engine, client: Cmd, i: number, s: CommitStats): Promise<void> {
  const name = `${runId}-cm-${i}`;
  const image = `${runId}-img:${i}`;
  try {
    const w = exec(e.cli, ['run', '--name', name, IMAGE, 'sh', '-c', writerScript()], 300_000);
    if (!w.ok) throw new Error(`run: ${lastLine(w.stderr)}`);
    const id = exec(e.cli, ['inspect', '-f', '{{.Id}}', name]);
    if (id.ok) e.created.add(id.stdout.trim());
    spawnSync('sync');
    await checkpoint();
    const c = exec(client, ['commit', name, image], 600_000);
    if (!c.ok) throw new Error(`commit: ${lastLine(c.stderr)}`);
    s.times.push(c.ms);
    const check = exec(e.cli, ['run', '--rm', image, 'sh', '-c', 'ls /data | wc -l'], 120_000);
    if (!check.ok || check.stdout.trim() !== String(FILES)) throw new Error(`the committed image has ${check.stdout.trim() || '?'} of ${FILES} files: ${lastLine(check.stderr)}`);
  } catch (err) {
    s.failures++;
    s.lastError = (err as Error).message;
    if (e.name === 'tugboat') keepTugdLog();
    say(`${s.label}: round ${i}: ${s.lastError}`);
  } finally {
    exec(e.cli, ['rm', '-f', name]);
    exec(e.cli, ['rmi', '-f', image]);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const engines: Engine[] = [];
  const unavailable: string[] = [];
  const work = mkdtempSync(join(tmpdir(), `${runId}-commit-`));
  try {
    const tar = join(work, 'busybox.tar');
    const mk = spawnSync('bash', [join(repo, 'scripts/make-images.sh'), '--tar', 'busybox', tar], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (mk.status !== 0) throw new Error('scripts/make-images.sh --tar busybox failed');
    const makers: [string, () => Engine | Promise<Engine>][] = [
      ['tugboat', () => tugboatEngine(BRIDGE)],
      ['docker', dockerEngine],
      ['podman', podmanEngine],
    ];
    await startEngines(makers, ENGINES, engines, unavailable, (e) => importBusybox(e, tar, IMAGE));
    if (engines.length === 0) throw new Error('no engine to measure');

    say(`commit of a stopped container with ${MB} MiB in ${FILES} files, ${N} rounds per engine, interleaved`);
    const clients = engines.flatMap((e) => e.runClients.map((c) => ({ e, cmd: c.cmd, s: { label: c.label, engine: e.name, times: [] as number[], failures: 0, lastError: '' } })));
    const stats = clients.map((c) => c.s);
    for (let i = 0; i < N; i++) {
      for (const [k, c] of clients.entries()) await round(c.e, c.cmd, i * clients.length + k, c.s);
      say(`round ${i + 1}/${N}: ${stats.map((s) => `${s.label} ${s.times.length ? f2(s.times[s.times.length - 1] / 1000) : '—'} s`).join(', ')}`);
    }

    const dref = stats.find((s) => s.engine === 'docker' && s.times.length);
    const out: string[] = [''];
    out.push(`tugboat commit benchmark — ${new Date().toISOString()}`);
    out.push(`engines: ${engines.map((e) => e.version).join('; ')}; docker client ${DOCKER_CLI}`);
    for (const u of unavailable) out.push(`not measured: ${u.split('\n')[0]}`);
    out.push('');
    out.push(`commit of a stopped container holding ${MB} MiB of new data in ${FILES} files (wall time of the CLI's commit, ${N} rounds)`);
    out.push(table(['client → engine', 'median s', 'best s', 'ok/fail', 'median vs docker'],
      stats.map((s) => s.times.length
        ? [s.label, f2(median(s.times) / 1000), f2(Math.min(...s.times) / 1000), `${s.times.length}/${s.failures}`, dref ? `${f2(median(s.times) / median(dref.times))}x` : '—']
        : [s.label, '—', '—', `0/${s.failures}`, s.lastError.slice(0, 70)])));
    for (const s of stats) if (s.failures && s.times.length) out.push(`  ${s.label}: ${s.failures} failed rounds; last: ${s.lastError.slice(0, 120)}`);
    out.push('');
    out.push(`took ${f2((Date.now() - started) / 1000)} s`);
    process.stdout.write(out.join('\n') + '\n');
    const results = { mb: MB, files: FILES, n: N, engines: engines.map((e) => e.version), unavailable, stats: stats.map((s) => ({ ...s, medianMs: s.times.length ? median(s.times) : null })) };
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2) + '\n');
  } finally {
    for (const e of engines) {
      sweep(e);
      // images of rounds cut short, then the imported base (tugd's data root goes as a whole anyway)
      const left = exec(e.cli, ['images', '-q', '--filter', `reference=${runId}-img`]);
      if (left.ok && left.stdout.trim()) exec(e.cli, ['rmi', '-f', ...new Set(left.stdout.trim().split('\n'))]);
      if (e.name !== 'tugboat') exec(e.cli, ['rmi', IMAGE]);
    }
    await stopTugd();
    rmSync(work, { recursive: true, force: true });
  }
}

runBench(main);
