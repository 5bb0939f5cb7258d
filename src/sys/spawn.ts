// The daemon's child processes (conmon on every container start and exec, the runtime, CNI plugins, ip, iptables)
// started with posix_spawn rather than child_process. glibc's posix_spawn shares the parent's memory until the
// child execs (clone with CLONE_VM|CLONE_VFORK); libuv forks, copying the page tables of the whole daemon first:
// 2–8 ms with the event loop blocked for each child, against ~0.3 ms.
// The child gets /dev/null or a pipe on each of its first descriptors, default signal handling and an empty signal
// mask (as libuv gives its children), and a session of its own if asked. libuv waits only for the children it made
// itself: ours are reaped here, when SIGCHLD comes (and by a slow poll, should a signal be missed).
import type { Socket } from 'node:net';
import { socketOnFd } from './fd-socket.js';
import { libcHandle, SyscallError } from './libc.js';

/** What the child's descriptor i is: /dev/null, a pipe the parent reads from, or a pipe the parent writes to. */
export type FdSpec = 'null' | 'read' | 'write';

export interface Spawned {
  pid: number;
  /** The parent's end of each pipe, at the index of the child's descriptor. */
  pipes: (Socket | undefined)[];
  /** The child's exit status (128 + signal when a signal ended it). */
  exited: Promise<number>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  fds: FdSpec[];
  /** A session of its own (setsid), for a process that outlives the daemon. */
  session?: boolean;
}

interface SpawnCalls {
  posix_spawn(pid: number[], path: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
  posix_spawnp(pid: number[], file: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
  actionsInit(a: Buffer): number;
  actionsDestroy(a: Buffer): number;
  addDup2(a: Buffer, fd: number, newfd: number): number;
  addOpen(a: Buffer, fd: number, path: string, flags: number, mode: number): number;
  addChdir(a: Buffer, path: string): number;
  attrInit(a: Buffer): number;
  attrDestroy(a: Buffer): number;
  setFlags(a: Buffer, flags: number): number;
  setSigMask(a: Buffer, set: Buffer): number;
  setSigDefault(a: Buffer, set: Buffer): number;
  pipe2(fds: Buffer, flags: number): number;
  fcntl(fd: number, cmd: number, type: string, arg: number): number;
  close(fd: number): number;
  waitpid(pid: number, status: Buffer, options: number): number;
  errno(): number;
  strerror(n: number): string;
}

let calls: SpawnCalls | undefined;

function load(): SpawnCalls {
  if (calls) return calls;
  const { koffi, lib } = libcHandle();
  calls = {
    posix_spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, const void *actions, const void *attr, const char **argv, const char **envp)'),
    posix_spawnp: lib.func('int posix_spawnp(_Out_ int *pid, const char *file, const void *actions, const void *attr, const char **argv, const char **envp)'),
    actionsInit: lib.func('int posix_spawn_file_actions_init(void *a)'),
    actionsDestroy: lib.func('int posix_spawn_file_actions_destroy(void *a)'),
    addDup2: lib.func('int posix_spawn_file_actions_adddup2(void *a, int fd, int newfd)'),
    addOpen: lib.func('int posix_spawn_file_actions_addopen(void *a, int fd, const char *path, int flags, uint32_t mode)'),
    addChdir: lib.func('int posix_spawn_file_actions_addchdir_np(void *a, const char *path)'),
    attrInit: lib.func('int posix_spawnattr_init(void *a)'),
    attrDestroy: lib.func('int posix_spawnattr_destroy(void *a)'),
    setFlags: lib.func('int posix_spawnattr_setflags(void *a, short flags)'),
    setSigMask: lib.func('int posix_spawnattr_setsigmask(void *a, const void *set)'),
    setSigDefault: lib.func('int posix_spawnattr_setsigdefault(void *a, const void *set)'),
    pipe2: lib.func('int pipe2(void *fds, int flags)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
    close: lib.func('int close(int fd)'),
    waitpid: lib.func('int waitpid(int pid, void *status, int options)'),
    errno: () => koffi.errno() as number,
    strerror: lib.func('const char *strerror(int errnum)'),
  };
  return calls;
}

const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;
const F_DUPFD_CLOEXEC = 1030;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const WNOHANG = 1;
// glibc's opaque types, with room to spare (posix_spawnattr_t is 336 bytes, file actions 80, sigset_t 128)
const ATTR_SIZE = 512;
const ACTIONS_SIZE = 256;
const SIGSET_SIZE = 128;

/** A pipe's two ends, both close-on-exec and above `above` (so that no end is one of the child's own numbers). */
function pipeAbove(c: SpawnCalls, above: number): [number, number] {
  const fds = Buffer.alloc(8);
  if (c.pipe2(fds, O_CLOEXEC) !== 0) throw new SyscallError('pipe2', c.errno(), 'pipe');
  return [fds.readInt32LE(0), fds.readInt32LE(4)].map((fd) => {
    if (fd > above) return fd;
    const moved = c.fcntl(fd, F_DUPFD_CLOEXEC, 'int', above + 1);
    c.close(fd);
    if (moved < 0) throw new SyscallError('fcntl', c.errno(), 'pipe');
    return moved;
  }) as [number, number];
}

function exitStatus(raw: number): number {
  const signal = raw & 0x7f;
  return signal === 0 ? (raw >> 8) & 0xff : 128 + signal;
}

// ---- reaping ----

const waiting = new Map<number, (status: number) => void>();
let listening = false;
let poll: NodeJS.Timeout | undefined;

function reap(): void {
  const c = load();
  const raw = Buffer.alloc(4);
  for (const [pid, done] of waiting) {
    const r = c.waitpid(pid, raw, WNOHANG);
    if (r === 0) continue;
    waiting.delete(pid);
    // -1: not ours to wait for any more (ECHILD): no status to give
    done(r === pid ? exitStatus(raw.readInt32LE(0)) : 255);
  }
  if (waiting.size === 0 && poll) { clearInterval(poll); poll = undefined; }
}

/** The exit status of a child of ours; the process stays alive while one is awaited, as with libuv's own children. */
function exitOf(pid: number): Promise<number> {
  if (!listening) { process.on('SIGCHLD', reap); listening = true; }
  const status = new Promise<number>((resolve) => waiting.set(pid, resolve));
  poll ??= setInterval(reap, 100);
  reap();
  return status;
}

export function spawnProcess(file: string, args: string[], o: SpawnOptions): Spawned {
  const c = load();
  const childEnds: number[] = [];
  const parentEnds: (number | undefined)[] = [];
  const actions = Buffer.alloc(ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  c.actionsInit(actions);
  c.attrInit(attr);
  let started = false;
  try {
    for (let i = 0; i < o.fds.length; i++) {
      const spec = o.fds[i];
      if (spec === 'null') {
        c.addOpen(actions, i, '/dev/null', O_RDWR, 0);
        parentEnds.push(undefined);
        continue;
      }
      const [r, w] = pipeAbove(c, o.fds.length);
      const [mine, theirs] = spec === 'read' ? [r, w] : [w, r];
      parentEnds.push(mine);
      childEnds.push(theirs);
      // dup2 onto a number of its own clears close-on-exec for the child's copy only
      c.addDup2(actions, theirs, i);
    }
    if (o.cwd) c.addChdir(actions, o.cwd);
    // signal sets as Linux lays them out, a bit per signal: sigfillset would leave out glibc's own two signals,
    // which posix_spawn then ignores in the child, and an ignored signal stays ignored in what the child executes
    const none = Buffer.alloc(SIGSET_SIZE);
    const all = Buffer.alloc(SIGSET_SIZE, 0xff);
    c.setSigMask(attr, none);
    c.setSigDefault(attr, all);
    c.setFlags(attr, (o.session ? POSIX_SPAWN_SETSID : 0) | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const env = Object.entries(o.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const pid = [0];
    // a bare name is looked for in PATH, as execvp does
    const rc = (file.includes('/') ? c.posix_spawn : c.posix_spawnp)(pid, file, actions, attr, [file, ...args, null], [...env, null]);
    if (rc !== 0) throw Object.assign(new SyscallError('posix_spawn', rc, `${file}: ${c.strerror(rc)}`), { code: rc === 2 ? 'ENOENT' : undefined });
    started = true;
    const exited = exitOf(pid[0]);
    const pipes = parentEnds.map((fd, i) => (fd === undefined ? undefined : socketOnFd(fd, { readable: o.fds[i] === 'read', writable: o.fds[i] === 'write' })));
    return { pid: pid[0], pipes, exited };
  } finally {
    for (const fd of childEnds) c.close(fd);
    if (!started) for (const fd of parentEnds) if (fd !== undefined) c.close(fd);
    c.actionsDestroy(actions);
    c.attrDestroy(attr);
  }
}

export interface ProgramOutput { stdout: string; stderr: string }

/** A failed program, with what execFile's errors carry: its exit status (`code`) and output. */
export class ProgramError extends Error implements ProgramOutput {
  constructor(readonly code: number | string, readonly stdout: string, readonly stderr: string, command: string) {
    super(`Command failed: ${command}${stderr ? `\n${stderr}` : ''}`);
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
  /** Bytes kept of each of stdout and stderr (1 MiB by default); the rest is read and dropped. */
  maxBuffer?: number;
}

/** Run a program to its end, as execFile does: its output, or a ProgramError when it fails or cannot start. */
export async function runProgram(file: string, args: string[], o: RunOptions = {}): Promise<ProgramOutput> {
  const command = [file, ...args].join(' ');
  let child: Spawned;
  try {
    child = spawnProcess(file, args, { env: o.env ?? process.env, cwd: o.cwd, fds: [o.input === undefined ? 'null' : 'write', 'read', 'read'] });
  } catch (e) {
    throw Object.assign(new ProgramError((e as { code?: string }).code ?? 'ERR', '', '', command), { message: (e as Error).message });
  }
  const [stdin, out, err] = child.pipes;
  const max = o.maxBuffer ?? 1 << 20;
  const collect = (s: Socket) => new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    s.on('data', (b: Buffer) => { size += b.length; if (size <= max) chunks.push(b); });
    s.on('error', () => undefined);
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
  if (stdin && o.input !== undefined) { stdin.on('error', () => undefined); stdin.end(o.input); } // a program that exits without reading: its status says why
  const [stdout, stderr, status] = await Promise.all([collect(out as Socket), collect(err as Socket), child.exited]);
  if (status !== 0) throw new ProgramError(status, stdout, stderr, command);
  return { stdout, stderr };
}
