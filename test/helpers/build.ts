// Helpers for the build tests: throwaway build contexts, the CLIs (tug, docker, docker-compose) run inside a
// context directory as a user would, docker's legacy builder output read back into steps, and what a build
// could leave behind (mounts under the data root).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DOCKER, REPO, type Run, type TestDaemon } from './daemon.ts';

const TUG = join(REPO, 'dist/tug.js');

/** Build context directories, each made from a map of relative path → content, all removed by `cleanup`. */
export class Contexts {
  private readonly dirs: string[] = [];

  make(files: Record<string, string | Buffer>): string {
    const dir = mkdtempSync(join(tmpdir(), 'tugbuild-'));
    this.dirs.push(dir);
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx);
    for (const [name, body] of Object.entries(files)) {
      mkdirSync(dirname(join(ctx, name)), { recursive: true });
      writeFileSync(join(ctx, name), body);
    }
    return ctx;
  }

  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>, timeout: number, input?: string): Run {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, timeout, input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** `tug …` in `cwd` against the test daemon. */
export function tugIn(d: TestDaemon, cwd: string, args: string[], timeout = 120_000): Run {
  return run(process.execPath, [TUG, '-H', d.host, ...args], cwd, {}, timeout);
}

/** The real docker CLI in `cwd` against the test daemon, with its legacy builder (DOCKER_BUILDKIT=0). */
export function dockerIn(d: TestDaemon, cwd: string, args: string[], timeout = 120_000): Run {
  return run(DOCKER, args, cwd, { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config'), DOCKER_BUILDKIT: '0' }, timeout);
}

/** Debian's docker-compose 1.29 in `cwd`, building through its own Python client (docker-py), not the docker CLI. */
export function composeIn(d: TestDaemon, cwd: string, args: string[], timeout = 120_000): Run {
  return run('docker-compose', args, cwd, { DOCKER_HOST: d.host, COMPOSE_DOCKER_CLI_BUILD: '0', DOCKER_BUILDKIT: '0' }, timeout);
}

/** One `Step N/M : …` of docker's legacy builder output and the lines under it. */
export interface Step {
  n: number;
  total: number;
  instruction: string;
  lines: string[];
  /** ` ---> Using cache` */
  cached: boolean;
  /** ` ---> Running in <id>` */
  ran: boolean;
  /** the last ` ---> <id>` */
  id?: string;
}

export function parseSteps(output: string): Step[] {
  const steps: Step[] = [];
  for (const line of output.split('\n')) {
    const m = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
    if (m) { steps.push({ n: Number(m[1]), total: Number(m[2]), instruction: m[3], lines: [], cached: false, ran: false }); continue; }
    const cur = steps.at(-1);
    if (!cur) continue;
    if (/^(Successfully (built|tagged)|\[Warning\])/.test(line)) continue;
    cur.lines.push(line);
    if (line === ' ---> Using cache') cur.cached = true;
    if (/^ ---> Running in [0-9a-f]{12}$/.test(line)) cur.ran = true;
    const id = /^ ---> ([0-9a-f]{12})$/.exec(line);
    if (id) cur.id = id[1];
  }
  return steps;
}

/** The short ID of "Successfully built <id>". */
export function builtId(output: string): string {
  const m = /^Successfully built ([0-9a-f]{12})$/m.exec(output);
  if (!m) throw new Error(`no "Successfully built" in:\n${output}`);
  return m[1];
}

/** Bytes of "Sending build context to … daemon  6.656kB". */
export function contextBytes(output: string): number {
  const m = /^Sending build context to \S+ daemon\s+([\d.]+)([kMG]?B)/m.exec(output);
  if (!m) throw new Error(`no "Sending build context" in:\n${output}`);
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B' | 'kB' | 'MB' | 'GB'];
}

/** Mount points under `dir`, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(`${dir}/`)).sort();
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
