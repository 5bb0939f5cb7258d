// Pull and push of a ~330 MB multi-layer image through a loopback registry (Debian's docker-registry), side by
// side: tug → tugd, the docker CLI → tugd, docker → dockerd, podman; plus a raw copy of the blobs (skopeo) as
// the floor. Run through bench/run-registry.sh.
//
// The image: a debootstrap'd Debian (minbase) as the first layer, then layers of the host's /usr trees until
// about BENCH_IMAGE_MB of files. Each pull starts from nothing (the image is removed first); each push goes to
// an empty registry, so nothing is skipped or mounted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropBridge, ONLY, running, TUG_CMD } from './bench.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IMAGE_MB = Number(process.env.BENCH_IMAGE_MB ?? 330);
const DOCKER = existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
const say = (m: string) => process.stderr.write(`[bench/registry] ${m}\n`);
const work = mkdtempSync(join(tmpdir(), 'tugbench-reg-'));

function sh(cmd: string, args: string[], env: Record<string, string> = {}): { ok: boolean; ms: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 600_000, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ok: r.status === 0, ms, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function must(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = sh(cmd, args, env);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')}: ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
  return r.out;
}

/**
 * Before each measurement: nothing of the one before still being written back, and no caches. On ext4 without a
 * journal, creating files right after another client deleted tens of thousands costs several times more while the
 * deleted inodes' table blocks are cached; without this, whoever runs after a removal pays for it.
 */
function settle(): void {
  sh('sync', []);
  try { writeFileSync('/proc/sys/vm/drop_caches', '3'); } catch { /* not permitted: measured warm */ }
}

const sha = (file: string) => `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;

/** Layer tars: debootstrap minbase, then host /usr trees until the image has about IMAGE_MB of files. */
function buildLayers(): string[] {
  const root = join(work, 'rootfs');
  say('debootstrap --variant=minbase bookworm (about half a minute)');
  must('debootstrap', ['--variant=minbase', 'bookworm', root, 'http://deb.debian.org/debian']);
  const layers = [join(work, 'l0.tar')];
  must('tar', ['-C', root, '--numeric-owner', '-cf', layers[0], '.']);
  let total = statSync(layers[0]).size;
  const extra = ['usr/lib/python3.11', 'usr/share/locale', 'usr/lib/x86_64-linux-gnu', 'usr/share/doc', 'usr/bin', 'usr/share'];
  for (const dir of extra) {
    if (total >= IMAGE_MB * 1e6 || !existsSync(`/${dir}`)) continue;
    const file = join(work, `l${layers.length}.tar`);
    must('tar', ['-C', '/', '--numeric-owner', '--ignore-failed-read', '-cf', file, dir]);
    layers.push(file);
    total += statSync(file).size;
  }
  say(`image: ${layers.length} layers, ${(total / 1e6).toFixed(0)} MB of tar`);
  return layers;
}

/** An OCI layout with the layers gzip'ed, for skopeo to put into the registry. */
function layout(layers: string[]): string {
  const dir = join(work, 'layout');
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (file: string) => { const d = sha(file); must('cp', [file, join(dir, 'blobs', 'sha256', d.slice(7))]); return d; };
  const descs = layers.map((l) => {
    must('gzip', ['-6', '-k', '-f', l]);
    const gz = `${l}.gz`;
    return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: statSync(gz).size };
  });
  const cfgFile = join(work, 'config.json');
  writeFileSync(cfgFile, JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/bash'] }, rootfs: { type: 'layers', diff_ids: layers.map(sha) } }));
  const manFile = join(work, 'manifest.json');
  writeFileSync(manFile, JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(cfgFile), size: statSync(cfgFile).size }, layers: descs }));
  const md = put(manFile);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: statSync(manFile).size, annotations: { 'org.opencontainers.image.ref.name': 'big' } }] }));
  say(`compressed: ${(descs.reduce((a, d) => a + d.size, 0) / 1e6).toFixed(0)} MB`);
  return dir;
}

class Registry {
  proc?: ChildProcess;
  constructor(readonly port: number, readonly dir: string) {}
  async start(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${this.dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${this.port}\n`);
    this.proc = spawn('docker-registry', ['serve', join(this.dir, 'config.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try { if ((await fetch(`http://127.0.0.1:${this.port}/v2/`)).ok) return; } catch { /* starting */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('docker-registry did not start');
  }
  async stop(): Promise<void> {
    if (this.proc && running(this.proc)) { const e = new Promise((r) => this.proc!.once('exit', r)); this.proc.kill(); await e; }
  }
}

interface Client { label: string; engine: 'tugboat' | 'docker' | 'podman' | 'raw'; cmd: string; args: string[]; env: Record<string, string> }

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; }

async function main(): Promise<void> {
  for (const tool of ['debootstrap', 'docker-registry', 'skopeo', 'gzip']) if (sh('which', [tool]).ok === false) throw new Error(`${tool} is missing: run bench/install.sh`);
  const tugSock = join(work, 'tugd.sock');
  const tugd = spawn(process.execPath, [join(repo, 'dist/tugd.js'), '-H', `unix://${tugSock}`, '--data-root', join(work, 'tugdata'), '--config-file', join(work, 'none.json'), '--bridge', 'tugbenchreg0'], { stdio: 'ignore' });
  const src = new Registry(5101, join(work, 'reg-src'));
  const dst = new Registry(5102, join(work, 'reg-dst'));
  try {
    await src.start();
    const dir = layout(buildLayers());
    must('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:big`, 'docker://127.0.0.1:5101/bench/big:1']);
    const image = '127.0.0.1:5101/bench/big:1';
    const tug: Client = { label: 'tug → tugd', engine: 'tugboat', cmd: TUG_CMD[0], args: [...TUG_CMD.slice(1), '-H', `unix://${tugSock}`], env: {} };
    const dockerToTugd: Client = { label: 'docker CLI → tugd', engine: 'tugboat', cmd: DOCKER, args: [], env: { DOCKER_HOST: `unix://${tugSock}` } };
    const docker: Client = { label: 'docker → dockerd', engine: 'docker', cmd: DOCKER, args: [], env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } };
    const podman: Client = { label: 'podman', engine: 'podman', cmd: 'podman', args: [], env: {} };
    const clients = [tug, dockerToTugd, docker, podman]
      .filter((c) => ONLY.includes(c.engine))
      .filter((c) => c.engine !== 'docker' || existsSync('/var/run/docker.sock'))
      .filter((c) => c.engine !== 'podman' || sh('which', ['podman']).ok);
    const pulls = new Map<string, number[]>();
    const pushes = new Map<string, number[]>();
    const raw: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      say(`run ${run + 1}/${RUNS}`);
      rmSync(join(work, 'raw'), { recursive: true, force: true });
      settle();
      raw.push(sh('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${image}`, `dir:${join(work, 'raw')}`]).ms);
      for (const c of clients) {
        const tlsOff = c.engine === 'podman' ? ['--tls-verify=false'] : [];
        sh(c.cmd, [...c.args, 'rmi', '-f', image], c.env);
        if (c.engine === 'podman') sh('podman', ['image', 'prune', '-f']);
        settle();
        const p = sh(c.cmd, [...c.args, 'pull', ...tlsOff, image], c.env);
        if (!p.ok) { say(`${c.label}: pull failed: ${p.out.trim().split('\n').slice(-1)[0]}`); continue; }
        (pulls.get(c.label) ?? pulls.set(c.label, []).get(c.label)!).push(p.ms);
        await dst.start();
        const target = `127.0.0.1:5102/bench/pushed:${run}`;
        sh(c.cmd, [...c.args, 'tag', image, target], c.env);
        settle();
        const q = sh(c.cmd, [...c.args, 'push', ...tlsOff, target], c.env);
        await dst.stop();
        if (!q.ok) { say(`${c.label}: push failed: ${q.out.trim().split('\n').slice(-1)[0]}`); continue; }
        (pushes.get(c.label) ?? pushes.set(c.label, []).get(c.label)!).push(q.ms);
        sh(c.cmd, [...c.args, 'rmi', '-f', target, image], c.env);
      }
    }
    const ref = (m: Map<string, number[]>) => (m.get('docker → dockerd') ? median(m.get('docker → dockerd')!) : undefined);
    const line = (label: string, xs: number[] | undefined, r: number | undefined) => `${label.padEnd(20)} ${xs ? `${(median(xs) / 1000).toFixed(2)} s`.padStart(9) : '—'.padStart(9)}  ${xs && r ? `${(median(xs) / r).toFixed(2)}x` : ''}`;
    const out = [`pull and push of ${image} (medians of ${RUNS}), ratio to docker`, '', 'pull'];
    for (const c of clients) out.push(line(c.label, pulls.get(c.label), ref(pulls)));
    out.push(line('raw blob copy', raw, ref(pulls)), '', 'push');
    for (const c of clients) out.push(line(c.label, pushes.get(c.label), ref(pushes)));
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await src.stop();
    await dst.stop();
    if (running(tugd)) {
      const exited = new Promise((r) => tugd.once('exit', r));
      tugd.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (running(tugd)) tugd.kill('SIGKILL');
    }
    dropBridge('tugbenchreg0');
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => { say(`failed: ${(e as Error).stack ?? String(e)}`); rmSync(work, { recursive: true, force: true }); process.exitCode = 1; });
