// Starting conmon, on every container start and exec, with posix_spawn rather than child_process.spawn. glibc's
// posix_spawn shares the parent's memory until the child execs (clone with CLONE_VM|CLONE_VFORK); libuv forks,
// copying the page tables of the whole daemon first: 2–8 ms with the event loop blocked, against ~0.3 ms.
// The child gets /dev/null or a pipe on each of its first descriptors, its own session, default signal handling
// and an empty signal mask (as libuv gives its children); it is reaped on a thread of libuv's pool, since libuv
// waits only for the children it made itself.
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

export interface SpawnOptions { env: NodeJS.ProcessEnv; cwd: string; fds: FdSpec[] }

interface SpawnCalls {
  posix_spawn(pid: number[], path: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
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
  sigemptyset(set: Buffer): number;
  pipe2(fds: Buffer, flags: number): number;
  fcntl(fd: number, cmd: number, type: string, arg: number): number;
  close(fd: number): number;
  waitpid: { async(pid: number, status: Buffer, options: number, cb: (err: unknown, rc: number) => void): void };
  errno(): number;
  strerror(n: number): string;
}

let calls: SpawnCalls | undefined;

function load(): SpawnCalls {
  if (calls) return calls;
  const { koffi, lib } = libcHandle();
  calls = {
    posix_spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, const void *actions, const void *attr, const char **argv, const char **envp)'),
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
    sigemptyset: lib.func('int sigemptyset(void *set)'),
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
    c.addChdir(actions, o.cwd);
    const none = Buffer.alloc(SIGSET_SIZE);
    c.sigemptyset(none);
    // every bit set by hand: sigfillset leaves out glibc's own two signals, which posix_spawn then ignores in the
    // child, and an ignored signal stays ignored in what the child executes
    const all = Buffer.alloc(SIGSET_SIZE, 0xff);
    c.setSigMask(attr, none);
    c.setSigDefault(attr, all);
    c.setFlags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const env = Object.entries(o.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const pid = [0];
    const rc = c.posix_spawn(pid, file, actions, attr, [file, ...args, null], [...env, null]);
    if (rc !== 0) throw Object.assign(new SyscallError('posix_spawn', rc, `${file}: ${c.strerror(rc)}`), { code: rc === 2 ? 'ENOENT' : undefined });
    started = true;
    const status = Buffer.alloc(4);
    const exited = new Promise<number>((resolve) => {
      c.waitpid.async(pid[0], status, 0, (err, r) => resolve(err || r !== pid[0] ? 255 : exitStatus(status.readInt32LE(0))));
    });
    const pipes = parentEnds.map((fd, i) => (fd === undefined ? undefined : socketOnFd(fd, { readable: o.fds[i] === 'read', writable: o.fds[i] === 'write' })));
    return { pid: pid[0], pipes, exited };
  } finally {
    for (const fd of childEnds) c.close(fd);
    if (!started) for (const fd of parentEnds) if (fd !== undefined) c.close(fd);
    c.actionsDestroy(actions);
    c.attrDestroy(attr);
  }
}
