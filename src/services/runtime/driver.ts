// Runs OCI bundles with runc (or crun) under conmon. conmon holds stdio, writes the log and the exit
// code, and keeps the container alive while tugd restarts; runc is only called for verbs.
import type { Socket } from 'node:net';
import { promises as fs, existsSync, readFileSync, rmSync, openSync, writeSync, closeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { PhaseTimer } from '../../util/phases.js';
import { releaseRuncInit } from './exec-fifo.js';
import { runProgram, spawnProcess } from '../../sys/spawn.js';


export interface RuntimePaths {
  conmon: string;
  runtimes: Record<string, string>;
  /** Per-daemon runtime state (runc --root), exit files and attach sockets. */
  execRoot: string;
}

export interface StartOptions {
  id: string;
  name: string;
  bundle: string;
  runtime: string;
  logPath: string;
  logSizeMax: number;
  stdin: boolean;
  /** Keep the container's stdin open after an attached client leaves (docker -i without StdinOnce). */
  leaveStdinOpen: boolean;
  tty: boolean;
  /** Called after `runtime create` and before `runtime start` (e.g. to connect stdin). */
  beforeStart?: (pid: number) => Promise<void>;
}

export interface ExecOptions {
  containerId: string;
  execId: string;
  name: string;
  runtime: string;
  /** Directory for this exec's files (process spec, conmon's ctl fifo, pid file, log). */
  dir: string;
  processSpecPath: string;
  tty: boolean;
  stdin: boolean;
  /** Hold the process until the caller has connected to the attach socket (no output lost). */
  attach: boolean;
}

export interface ExecSession {
  /** Resolves once conmon's attach socket exists (attach mode only). */
  attachReady: Promise<void>;
  /** Let the process run (attach mode: after connecting). */
  release(): void;
  /** The process's pid, once `runtime exec` started it. */
  pid: Promise<number>;
  /** The exit code, once it exited. */
  exit: Promise<number>;
  /** conmon is gone: the exec's output is all in its log (the exit code may come a moment before that). */
  ended: Promise<void>;
}

export interface RuntimeState { status: 'created' | 'running' | 'paused' | 'stopped'; pid: number }

export class ConmonDriver {
  readonly exitDir: string;
  readonly socketDir: string;
  constructor(private readonly paths: RuntimePaths) {
    this.exitDir = join(paths.execRoot, 'exits');
    this.socketDir = join(paths.execRoot, 's');
  }

  async init(): Promise<void> {
    await Promise.all([this.exitDir, this.socketDir, this.stateRoot('runc'), this.stateRoot('crun')].map((d) => fs.mkdir(d, { recursive: true })));
  }

  runtimeNames(): string[] { return Object.keys(this.paths.runtimes); }

  private binary(runtime: string): string {
    const b = this.paths.runtimes[runtime];
    if (!b) throw new ApiError(400, `unknown or invalid runtime name: ${runtime}`);
    return b;
  }
  private stateRoot(runtime: string): string { return join(this.paths.execRoot, runtime); }

  private async runtimeCmd(runtime: string, args: string[]): Promise<string> {
    try {
      const { stdout } = await runProgram(this.binary(runtime), ['--root', this.stateRoot(runtime), ...args], { maxBuffer: 16 << 20 });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(cleanRuntimeError(err.stderr || err.message), { cause: e });
    }
  }

  /** Path of conmon's attach socket for a container or exec (a link named after it leads to its bundle). */
  attachSocketPath(id: string): string {
    return join(this.socketDir, id, 'attach');
  }

  /** Start conmon, which runs `runtime create`; then let the process run. Resolves with the container's pid. */
  async start(o: StartOptions): Promise<{ pid: number; conmonPid: number }> {
    const conmonPidFile = join(o.bundle, 'conmon.pid');
    const phases = new PhaseTimer();
    await fs.rm(join(this.exitDir, o.id), { force: true });
    await fs.rm(join(o.bundle, 'oom'), { force: true });
    const args = [
      '--api-version', '1', '-c', o.id, '-u', o.id, '-n', o.name,
      '-r', this.binary(o.runtime), '--runtime-arg', '--root', '--runtime-arg', this.stateRoot(o.runtime),
      '-b', o.bundle, '-p', join(o.bundle, 'pidfile'), '-P', conmonPidFile,
      '-l', `k8s-file:${o.logPath}`, '--exit-dir', this.exitDir, '--socket-dir-path', this.socketDir,
      '--log-level', 'error', '--syslog', '--persist-dir', o.bundle,
    ];
    if (o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
    if (o.stdin) args.push('-i');
    if (o.leaveStdinOpen) args.push('--leave-stdin-open');
    if (o.tty) args.push('-t');
    const child = spawnProcess(this.paths.conmon, args, {
      fds: ['null', 'null', 'read', 'read'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      cwd: o.bundle, // conmon writes some files relative to its working directory
      session: true,
    });
    const [, , errPipe, sync] = child.pipes as Socket[];
    sync.on('error', () => undefined); // its end says conmon is gone
    errPipe.on('error', () => undefined);
    let stderr = '';
    errPipe.on('data', (d: Buffer) => { stderr += d.toString(); });
    const msg = await new Promise<{ data: number; message?: string }>((resolve, reject) => {
      let buf = '';
      sync.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        const text = nl >= 0 ? buf.slice(0, nl) : buf;
        try { resolve(JSON.parse(text)); } catch { /* wait for more */ }
      });
      sync.on('end', () => {
        try { resolve(JSON.parse(buf)); } catch { reject(new Error(`conmon failed: ${stderr.trim() || 'no answer on sync pipe'}`)); }
      });
    });
    sync.destroy();
    errPipe.destroy();
    if (msg.data < 0) throw new ApiError(400, cleanRuntimeError(msg.message ?? 'container create failed'));
    const pid = msg.data;
    phases.mark('create');
    const conmonPid = Number(readFileSync(conmonPidFile, 'utf8'));
    try {
      if (o.beforeStart) await o.beforeStart(pid);
      phases.mark('beforeStart');
      // runc's init is released by reading its exec fifo here; other runtimes (or a runc without one) start it
      const released = o.runtime === 'runc' && await releaseRuncInit(join(this.stateRoot(o.runtime), o.id), pid);
      if (!released) await this.runtimeCmd(o.runtime, ['start', o.id]);
      phases.mark('start');
      log.debug('runtime', { id: o.id.slice(0, 12), runtime: o.runtime, ms: phases.ms });
    } catch (e) {
      await this.delete(o.runtime, o.id).catch(() => undefined);
      throw new ApiError(400, (e as Error).message);
    }
    return { pid, conmonPid };
  }

  /** `runtime exec` under conmon: conmon holds the process's stdio (and pty) and reports pid and exit code. */
  startExec(o: ExecOptions): ExecSession {
    const args = [
      '--api-version', '1', '-c', o.containerId, '-u', o.execId, '-n', o.name,
      '-r', this.binary(o.runtime), '--runtime-arg', '--root', '--runtime-arg', this.stateRoot(o.runtime),
      '-b', o.dir, '-p', join(o.dir, 'pid'), '-l', `k8s-file:${join(o.dir, 'exec.log')}`,
      '--exit-dir', join(o.dir, 'exits'), '--socket-dir-path', this.socketDir, '--persist-dir', o.dir,
      '--log-level', 'error', '--syslog', '-e', '--exec-process-spec', o.processSpecPath,
    ];
    if (o.tty) args.push('-t');
    if (o.stdin) args.push('-i');
    if (o.attach) args.push('--exec-attach');
    let pipes: Socket[];
    try {
      pipes = spawnProcess(this.paths.conmon, args, {
        fds: ['null', 'null', 'null', 'read', 'read', 'write'],
        env: { ...process.env, _OCI_SYNCPIPE: '3', ...(o.attach ? { _OCI_ATTACHPIPE: '4', _OCI_STARTPIPE: '5' } : {}) },
        cwd: o.dir,
        session: true,
      }).pipes as Socket[];
    } catch (e) {
      const failed = Promise.reject(new ApiError(500, `exec failed: ${(e as Error).message}`));
      failed.catch(() => undefined);
      return { attachReady: failed, release: () => undefined, pid: failed, exit: failed, ended: Promise.resolve() };
    }
    const [sync, attachPipe, startPipe] = [pipes[3], pipes[4], pipes[5]];
    // a conmon that went before reading its start pipe (the container was removed meanwhile) is no error either
    for (const p of [sync, attachPipe, startPipe]) p.on('error', () => undefined);
    // conmon reads the start pipe twice: once before it forks, once before it runs the process
    if (o.attach) startPipe.write('0');
    const messages = jsonLines(sync);
    const pid = messages.next().then((m) => {
      if (m === undefined) throw new Error('exec failed: conmon gave no answer');
      if (m.data < 0) throw new ApiError(500, cleanRuntimeError(m.message ?? 'exec failed'));
      return m.data;
    });
    const exit = pid.then(() => messages.next()).then((m) => m?.data ?? 255);
    // conmon (daemonized: not this child) holds the sync pipe until it exits, after writing the last output
    const ended = new Promise<void>((resolve) => { sync.once('close', () => resolve()); sync.once('end', () => resolve()); });
    // with conmon gone, nothing reads or writes the other pipes any more
    void ended.then(() => { for (const p of [attachPipe, startPipe]) p.destroy(); });
    pid.catch(() => undefined);
    exit.catch(() => undefined);
    const attachReady = o.attach
      ? new Promise<void>((resolve, reject) => {
        attachPipe.once('data', () => resolve());
        attachPipe.once('end', () => reject(new Error('exec failed before attaching')));
      })
      : Promise.resolve();
    attachReady.catch(() => undefined);
    return {
      attachReady,
      release: () => { startPipe.end('0'); },
      pid,
      exit,
      ended,
    };
  }

  async kill(runtime: string, id: string, signal: string | number, all = false): Promise<void> {
    await this.runtimeCmd(runtime, ['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }
  /**
   * Change a live container's cgroup limits (`runtime update -r FILE`, resources as OCI JSON). A file, not stdin:
   * crun opens /dev/stdin by name, which fails on the socket node gives a child for its standard input.
   */
  async update(runtime: string, id: string, resources: object): Promise<void> {
    const file = join(this.paths.execRoot, `update-${id}-${process.hrtime.bigint()}.json`);
    await fs.writeFile(file, JSON.stringify(resources), { mode: 0o600 });
    try {
      await this.runtimeCmd(runtime, ['update', '-r', file, id]);
    } catch (e) {
      throw new ApiError(400, (e as Error).message);
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  async pause(runtime: string, id: string): Promise<void> { await this.runtimeCmd(runtime, ['pause', id]); }
  async resume(runtime: string, id: string): Promise<void> { await this.runtimeCmd(runtime, ['resume', id]); }

  /** Whether the runtime keeps state for this container (created, and not deleted since). */
  hasState(runtime: string, id: string): boolean {
    return existsSync(join(this.stateRoot(runtime), id));
  }

  async delete(runtime: string, id: string): Promise<void> {
    // nothing to ask the runtime about when it keeps no state for this container
    if (!this.hasState(runtime, id)) return;
    await this.runtimeCmd(runtime, ['delete', '--force', id]).catch((e: Error) => {
      if (!/does not exist|not exist/.test(e.message)) throw e;
    });
  }

  /**
   * After conmon reported the exit, the container's processes are gone (its pid namespace died with
   * pid 1): dropping the runtime's state directory is all `delete` would still do, without the
   * cost of starting the runtime. The cgroup is removed by the caller.
   */
  async forget(runtime: string, id: string): Promise<void> {
    // a directory of one or two small files: removed in place rather than in turns of node's thread pool, which the
    // other steps of an exit's cleanup are queued on
    rmSync(join(this.stateRoot(runtime), id), { recursive: true, force: true });
  }

  async state(runtime: string, id: string): Promise<RuntimeState | undefined> {
    try {
      const s = JSON.parse(await this.runtimeCmd(runtime, ['state', id])) as { status: RuntimeState['status']; pid: number };
      return { status: s.status, pid: s.pid };
    } catch {
      return undefined;
    }
  }

  /** The exit code conmon recorded, if the container has exited. */
  exitCode(id: string): number | undefined {
    try {
      const t = readFileSync(join(this.exitDir, id), 'utf8').trim();
      return t === '' ? undefined : Number(t);
    } catch {
      return undefined;
    }
  }
  /** Forget a finished run: conmon's exit file and the attach-socket link it may leave. */
  async clearExit(id: string): Promise<void> {
    // two unlinks, in place (see forget)
    rmSync(join(this.exitDir, id), { force: true });
    rmSync(join(this.socketDir, id), { force: true });
  }

  oomKilled(bundle: string): boolean { return existsSync(join(bundle, 'oom')); }

  /** Ask conmon to reopen the log file (after the daemon rotated it away). */
  reopenLog(bundle: string): void { writeCtl(bundle, '2 0 0\n'); }

  resize(bundle: string, height: number, width: number): void { writeCtl(bundle, `1 ${height} ${width}\n`); }
}

/** conmon's sync pipe carries one JSON object per message ({"data": n, "message"?: s}). */
function jsonLines(stream: NodeJS.ReadableStream): { next(): Promise<{ data: number; message?: string } | undefined> } {
  const queue: Array<{ data: number; message?: string }> = [];
  const waiters: Array<(m: { data: number; message?: string } | undefined) => void> = [];
  let buf = '';
  let ended = false;
  const push = (m: { data: number; message?: string }) => { const w = waiters.shift(); if (w) w(m); else queue.push(m); };
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    // messages are concatenated JSON objects, possibly without separators
    for (;;) {
      const end = buf.indexOf('}');
      if (end < 0) break;
      const text = buf.slice(buf.indexOf('{'), end + 1);
      buf = buf.slice(end + 1);
      try { push(JSON.parse(text)); } catch { /* partial or junk */ }
    }
  });
  stream.on('end', () => { ended = true; for (const w of waiters.splice(0)) w(undefined); });
  return {
    next: () => new Promise((resolve) => {
      const m = queue.shift();
      if (m || ended) resolve(m);
      else waiters.push(resolve);
    }),
  };
}

/** Non-blocking open: a ctl fifo whose conmon is gone has no reader, and a blocking open would hang. */
function writeCtl(bundle: string, line: string): void {
  try {
    const fd = openSync(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
    try { writeSync(fd, line); } finally { closeSync(fd); }
  } catch { /* conmon gone */ }
}

/** runc errors arrive wrapped in logrus JSON or prefixed text; keep the message a user can act on. */
export function cleanRuntimeError(text: string): string {
  const lines = text.trim().split('\n').map((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string };
      return j.msg ?? l;
    } catch {
      return l.replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, '$1').replace(/\\"/g, '"');
    }
  }).filter((l) => l.trim() !== '');
  return lines.join('\n') || 'runtime error';
}

