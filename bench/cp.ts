// `cp` out of a container, tugboat against docker (dockerd): a ~1 GB tree of mixed file sizes (big blobs, 10 MB
// files, 512 KiB, 16 KiB and sub-KiB files in nested directories, symlinks) made inside a running container, then
// copied to the host with each client, rounds interleaved. Run through bench/run-cp.sh.
//
// (1) `cp CONTAINER:/data DIR`: the whole docker cp path (archive in the daemon, unpacked by the client), into a
//     tmpfs by default so that the host disk's write-back does not decide (BENCH_CP_DEST=disk for a directory on disk)
// (2) `cp CONTAINER:/data - > /dev/null`: the daemon's archive and its transport only
// Every copy is checked (file count and bytes). MB/s counts the files' bytes (10^6 bytes per MB).
//
// It starts its own tugd (bridge tugbenchcp0) and takes down what it made at the end, on error and on Ctrl-C:
// containers, the image it imported into dockerd, tugd, the tmpfs and temp dirs. dockerd itself is left running.
import { spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkpoint, dockerEngine, exec, f1, f2, importBusybox, intEnv, runBench, keepTugdLog, median, ONLY, runId,
  stopTugd, sweep, table, tugboatEngine, DOCKER_CLI, type Cmd, type Engine,
} from './bench.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MB = Math.max(16, intEnv('BENCH_CP_MB', 1024));
const RUNS = Math.max(1, intEnv('BENCH_CP_RUNS', 3));
const DEST = process.env.BENCH_CP_DEST === 'disk' ? 'disk' : 'tmpfs';
const BRIDGE = 'tugbenchcp0';
const IMAGE = 'tugbench-cp:latest';
const SRC = `${runId}-cp-src`;

const say = (msg: string) => process.stderr.write(`[bench/cp] ${msg}\n`);

/** The tree, made by busybox inside the container; prints the files' count and bytes. Sizes scale with BENCH_CP_MB. */
function generator(): string {
  const s = MB / 1024;
  const big = Math.max(1, Math.round(200 * s));
  const med = Math.max(1, Math.round(10 * s));
  const dirs = Math.max(1, Math.round(20 * s));
  return [
    'set -e; mkdir -p /data; cd /data',
    'dd if=/dev/urandom of=/tmp/chunk bs=1M count=8 2>/dev/null',
    `for i in 1 2; do mkdir -p big$i; dd if=/dev/urandom of=big$i/blob bs=1M count=${big} 2>/dev/null; done`,
    `mkdir -p med; for i in $(seq 1 40); do dd if=/dev/urandom of=med/f$i bs=1M count=${med} 2>/dev/null; done`,
    // printf is a shell builtin: thousands of small files without a fork each
    'S=$(head -c 12000 /tmp/chunk | base64 | tr -d "\\n"); T=$(head -c 700 /tmp/chunk | base64 | tr -d "\\n")',
    `for d in $(seq 1 ${dirs}); do mkdir -p small/d$d/x/y;`,
    '  for i in $(seq 1 20); do head -c 524288 /tmp/chunk > small/d$d/m$i; done;',
    '  for i in $(seq 1 400); do printf "%s" "$S" > small/d$d/x/s$i; done;',
    '  for i in $(seq 1 600); do printf "%s" "$T" > small/d$d/x/y/t$i; done;',
    '  ln -s ../m1 small/d$d/x/link; done',
    'rm /tmp/chunk',
    'echo "FILES $(find /data -type f | wc -l) BYTES $(find /data -type f -exec cat {} + | wc -c)"',
    'touch /ready; exec sleep 1000000',
  ].join('\n');
}

interface Tree { files: number; bytes: number }

/** Regular files under `dir`: how many, how many bytes. */
function measure(dir: string): Tree {
  let files = 0;
  let bytes = 0;
  const walk = (p: string) => {
    for (const n of readdirSync(p)) {
      const st = lstatSync(join(p, n));
      if (st.isDirectory()) walk(join(p, n));
      else if (st.isFile()) { files++; bytes += st.size; }
    }
  };
  walk(dir);
  return { files, bytes };
}

interface Client { label: string; engine: Engine; cmd: Cmd; tree: Tree; dir: number[]; stream: number[]; error: string }

/** The source container of an engine, once its tree is made. */
async function makeSource(e: Engine): Promise<Tree> {
  const r = exec(e.cli, ['run', '-d', '--name', SRC, IMAGE, 'sh', '-c', generator()]);
  if (!r.ok) throw new Error(`${e.name}: run: ${r.stderr.trim()}`);
  e.created.add(r.stdout.trim());
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    await checkpoint();
    if (exec(e.cli, ['exec', SRC, 'test', '-f', '/ready']).ok) {
      const m = /FILES (\d+) BYTES (\d+)/.exec(exec(e.cli, ['logs', SRC]).stdout);
      if (!m) throw new Error(`${e.name}: the generator printed no summary`);
      return { files: Number(m[1]), bytes: Number(m[2]) };
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
  throw new Error(`${e.name}: the tree was not made within 10 minutes`);
}

/** Wall time of one command, its stdout into /dev/null. */
function timed(cmd: Cmd, args: string[]): { s: number; ok: boolean; stderr: string } {
  const devnull = openSync('/dev/null', 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd.argv[0], [...cmd.argv.slice(1), ...args], { env: { ...process.env, ...cmd.env }, stdio: ['ignore', devnull, 'pipe'], timeout: 600_000, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(devnull);
  return { s, ok: r.status === 0, stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

async function round(clients: Client[], dest: string): Promise<void> {
  for (const c of clients) {
    await checkpoint();
    const out = join(dest, 'out');
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    if (DEST === 'disk') spawnSync('sync');
    const a = timed(c.cmd, ['cp', `${SRC}:/data`, out]);
    const got = a.ok ? measure(join(out, 'data')) : undefined;
    if (a.ok && got && got.files === c.tree.files && got.bytes === c.tree.bytes) c.dir.push(a.s);
    else c.error = a.ok ? `copy incomplete: ${JSON.stringify(got)} of ${JSON.stringify(c.tree)}` : a.stderr.trim().slice(-200);
    rmSync(out, { recursive: true, force: true });
    const b = timed(c.cmd, ['cp', `${SRC}:/data`, '-']);
    if (b.ok) c.stream.push(b.s);
    else c.error = b.stderr.trim().slice(-200);
    if (!a.ok || !b.ok) { if (c.engine.name === 'tugboat') keepTugdLog(); }
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), `${runId}-cp-`));
  const dest = join(work, 'dest');
  mkdirSync(dest);
  let mounted = false;
  const engines: Engine[] = [];
  const unavailable: string[] = [];
  try {
    if (DEST === 'tmpfs') {
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${MB * 2 + 256}m`, 'tmpfs', dest], { encoding: 'utf8' });
      if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
      mounted = true;
    }
    const tar = join(work, 'busybox.tar');
    const mk = spawnSync('bash', [join(repo, 'scripts/make-images.sh'), '--tar', 'busybox', tar], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (mk.status !== 0) throw new Error('scripts/make-images.sh --tar busybox failed');
    const makers: Array<[string, () => Engine | Promise<Engine>]> = [['tugboat', () => tugboatEngine(BRIDGE)], ['docker', dockerEngine]];
    const clients: Client[] = [];
    for (const [name, make] of makers) {
      if (!ONLY.includes(name)) continue;
      try {
        const e = await make();
        engines.push(e);
        importBusybox(e, tar, IMAGE);
        say(`${name}: ${e.version}; making the ${MB} MB tree in a container`);
        const tree = await makeSource(e);
        say(`${name}: ${tree.files} files, ${f1(tree.bytes / 1e6)} MB`);
        clients.push({ label: `${e.name === 'tugboat' ? 'tug' : 'docker'} → ${e.name === 'tugboat' ? 'tugd' : 'dockerd'}`, engine: e, cmd: e.cli, tree, dir: [], stream: [], error: '' });
        if (e.name === 'tugboat') clients.push({ label: 'docker CLI → tugd', engine: e, cmd: { argv: [DOCKER_CLI], env: { DOCKER_HOST: e.cli.argv[e.cli.argv.indexOf('-H') + 1] } }, tree, dir: [], stream: [], error: '' });
      } catch (err) {
        unavailable.push(`${name}: ${(err as Error).message}`);
        say(`${name}: unavailable: ${(err as Error).message}`);
        if (name === 'tugboat') keepTugdLog();
      }
    }
    if (clients.length === 0) throw new Error('no engine to measure');
    for (let i = 0; i < RUNS; i++) {
      say(`round ${i + 1}/${RUNS}`);
      await round(clients, dest);
    }

    const mbps = (c: Client, xs: number[]) => (xs.length ? c.tree.bytes / 1e6 / median(xs) : null);
    const ref = clients.find((c) => c.engine.name === 'docker');
    const ratio = (x: number | null, r: number | null) => (x !== null && r ? `${f2(x / r)}x` : '—');
    const out: string[] = [''];
    out.push(`tugboat cp benchmark — ${new Date().toISOString()}`);
    out.push(`engines: ${engines.map((e) => e.version).join('; ')}; docker client ${DOCKER_CLI}`);
    for (const u of unavailable) out.push(`not measured: ${u.split('\n')[0]}`);
    out.push(`tree: ${clients[0].tree.files} files, ${f1(clients[0].tree.bytes / 1e6)} MB in /data of a running container; median of ${RUNS} runs per client, interleaved`);
    out.push('');
    out.push(`(1) cp CONTAINER:/data DIR (DIR on ${DEST})   (2) cp CONTAINER:/data - > /dev/null`);
    out.push(table(['client', '(1) s', '(1) MB/s', '(1) vs docker', '(2) s', '(2) MB/s', '(2) vs docker', 'note'], clients.map((c) => [
      c.label,
      c.dir.length ? f2(median(c.dir)) : '—', mbps(c, c.dir) === null ? '—' : f1(mbps(c, c.dir) as number), ratio(mbps(c, c.dir), ref ? mbps(ref, ref.dir) : null),
      c.stream.length ? f2(median(c.stream)) : '—', mbps(c, c.stream) === null ? '—' : f1(mbps(c, c.stream) as number), ratio(mbps(c, c.stream), ref ? mbps(ref, ref.stream) : null),
      c.error.slice(0, 80),
    ])));
    const tug = clients.find((c) => c.label === 'tug → tugd');
    if (tug && ref) {
      const t = mbps(tug, tug.dir);
      const r = mbps(ref, ref.dir);
      if (t !== null && r !== null) out.push(`  target: tugboat ≥ docker's throughput (1): ${t >= r ? 'met' : 'NOT met'} (${f1(t)} vs ${f1(r)} MB/s, ${f2(t / r)}x)`);
    }
    out.push('');
    out.push(`took ${Math.round((Date.now() - started) / 1000)} s`);
    process.stdout.write(out.join('\n') + '\n');
    if (process.env.BENCH_JSON) {
      writeFileSync(process.env.BENCH_JSON, JSON.stringify({ mb: MB, runs: RUNS, dest: DEST, unavailable, clients: clients.map((c) => ({ label: c.label, tree: c.tree, dirSeconds: c.dir, streamSeconds: c.stream, error: c.error })) }, null, 2) + '\n');
    }
  } finally {
    for (const e of engines) {
      sweep(e);
      if (e.name !== 'tugboat') exec(e.cli, ['rmi', IMAGE]); // tugd's data root goes as a whole
    }
    await stopTugd();
    if (mounted) spawnSync('umount', [dest]);
    rmSync(work, { recursive: true, force: true });
  }
}

runBench(main);
