// A real dockerd of the test's own (Debian's docker.io), for archives passed between it and tugd: its data root,
// exec root and socket in a temporary directory, its own network namespace, no bridge and no iptables rules, so the
// host is left as it was.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, type Run } from './daemon.ts';

export class RealDockerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'tugtest-dockerd-'));
  readonly socket = join(this.dir, 'docker.sock');
  private proc?: ChildProcess;
  private logs = '';

  async start(): Promise<void> {
    const config = join(this.dir, 'daemon.json');
    writeFileSync(config, '{}');
    // in a network namespace of its own: a dockerd without a bridge deletes any docker0 it sees, which must not be
    // the host's (a docker the developer runs)
    this.proc = spawn('unshare', ['--net', '/usr/sbin/dockerd',
      '-H', `unix://${this.socket}`, '--data-root', join(this.dir, 'root'), '--exec-root', join(this.dir, 'exec'),
      '--pidfile', join(this.dir, 'dockerd.pid'), '--config-file', config,
      '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--storage-driver', 'overlay2',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr?.on('data', (b: Buffer) => { this.logs += b.toString(); });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`dockerd exited: ${this.logs.slice(-2000)}`);
      if (this.docker(['version']).code === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`dockerd did not answer: ${this.logs.slice(-2000)}`);
  }

  docker(args: string[]): Run {
    const r = spawnSync(DOCKER, args, { timeout: 120_000, env: { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.dir, 'config') } });
    return { code: r.status ?? -1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
  }

  /** Stop dockerd (and the containerd it started), then remove every mount and file it made. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    // its containerd stops with it; one left behind by a killed dockerd is found by its socket under our exec root
    spawnSync('pkill', ['-f', `containerd --config ${join(this.dir, 'exec')}`]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(this.dir));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
