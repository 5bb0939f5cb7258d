// The default seccomp policy: deny with EPERM unless a syscall is on the allowlist below.
// Extra syscalls are allowed only when the container holds the capability that already governs them
// in the kernel; namespace-creating clone flags need CAP_SYS_ADMIN.

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface OciSeccompSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: OciSeccompSyscall[];
}

const EPERM = 1;
const ENOSYS = 38;

/** Syscalls every container may make. */
const BASE: readonly string[] = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir',
  'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync',
  'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64',
  'futimesat', 'getcwd', 'getdents', 'getdents64', 'lchown', 'lchown32', 'link', 'linkat', '_llseek',
  'lseek', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at', 'newfstatat',
  'open', 'openat', 'openat2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev', 'pwritev2', 'read',
  'readahead', 'readlink', 'readlinkat', 'readv', 'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile',
  'sendfile64', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync',
  'sync_file_range', 'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat', 'utime',
  'utimensat', 'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr', 'llistxattr',
  'lremovexattr', 'lsetxattr', 'removexattr', 'setxattr', 'getxattrat', 'listxattrat', 'removexattrat', 'setxattrat',
  // polling, events, notifications
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait',
  'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init',
  'inotify_init1', 'inotify_rm_watch', 'pause', 'pipe', 'pipe2', 'poll', 'ppoll', 'ppoll_time64', 'pselect6',
  'pselect6_time64', 'select', '_newselect', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_gettime',
  'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  // asynchronous I/O (io_uring stays off: too much kernel surface)
  'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup', 'io_submit',
  'ioctl', 'ioprio_get', 'ioprio_set',
  // memory
  'brk', 'cachestat', 'madvise', 'map_shadow_stack', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore',
  'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall',
  'munmap', 'mseal', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'remap_file_pages',
  // processes and threads
  'arch_prctl', 'capget', 'capset', 'execve', 'execveat', 'exit', 'exit_group', 'fork', 'getcpu', 'getpgid',
  'getpgrp', 'getpid', 'getppid', 'getpriority', 'get_robust_list', 'getrusage', 'getsid', 'get_thread_area',
  'gettid', 'kill', 'modify_ldt', 'pidfd_open', 'pidfd_send_signal', 'prctl', 'prlimit64',
  'process_mrelease', 'ptrace', 'restart_syscall', 'rseq', 'set_robust_list', 'set_thread_area',
  'set_tid_address', 'setpgid', 'setpriority', 'setrlimit', 'getrlimit', 'ugetrlimit', 'setsid', 'tgkill',
  'tkill', 'vfork', 'wait4', 'waitid', 'waitpid',
  // scheduling
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity',
  'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  // credentials
  'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32',
  'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getuid', 'getuid32', 'setfsgid', 'setfsgid32',
  'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setregid', 'setregid32',
  'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setuid', 'setuid32',
  // signals
  'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask', 'sigreturn',
  // futexes
  'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake',
  // time
  // adjtimex/clock_adjtime only read the clock without CAP_SYS_TIME (the kernel checks writes)
  'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
  'clock_nanosleep_time64', 'getitimer', 'gettimeofday', 'nanosleep', 'setitimer', 'time', 'timer_create',
  'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
  'times',
  // sockets
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv',
  'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt',
  'shutdown', 'socket', 'socketcall', 'socketpair',
  // System V and POSIX IPC (namespaced)
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
  'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop',
  'semtimedop', 'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
  // misc
  'getrandom', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'seccomp', 'sysinfo',
  'uname',
];

/** Syscalls unlocked by a capability the container holds (names with the CAP_ prefix). */
const BY_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'mount', 'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'pivot_root', 'quotactl',
    'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'userfaultfd'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node', 'move_pages', 'migrate_pages'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
};

/** clone(2) flags that create namespaces: NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

/** personality(2) personas a normal program asks for: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE variants, query. */
const PERSONALITIES = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

/**
 * The system call ABIs a container may use: the native one and its 32-bit compat ABI (32-bit programs keep working).
 * x32 is left out: almost no binary uses it (Debian's kernels keep it off), and libseccomp's extra rules for it cost
 * every container start about 5 ms of CPU in runc.
 */
function architectures(): string[] {
  switch (process.arch) {
    case 'arm64':
      return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm':
      return ['SCMP_ARCH_ARM'];
    case 'ppc64':
      return ['SCMP_ARCH_PPC64LE'];
    case 's390x':
      return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    default:
      return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'];
  }
}

const normalizeCap = (c: string): string => {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
};

/**
 * The default profile for a container holding `caps` (its effective/bounding set, with or without the CAP_ prefix).
 */
export function defaultSeccomp(caps: string[]): OciSeccomp {
  const held = new Set(caps.map(normalizeCap));
  const allowed = new Set<string>(BASE);
  for (const [cap, names] of Object.entries(BY_CAPABILITY)) {
    if (held.has(cap)) for (const n of names) allowed.add(n);
  }
  const syscalls: OciSeccompSyscall[] = [{ names: [...allowed].sort(), action: 'SCMP_ACT_ALLOW' }];

  for (const p of PERSONALITIES) {
    syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] });
  }

  if (!held.has('CAP_SYS_ADMIN')) {
    // clone's flags are its first argument on x86 and arm; allow it only when no namespace flag is set.
    syscalls.push({
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    // clone3 passes flags in a struct seccomp cannot inspect: answer ENOSYS so libc falls back to clone.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }

  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: architectures(),
    syscalls,
  };
}

/** A profile in docker's JSON format, as `docker run --security-opt seccomp=<file>` sends it (the file's contents). */
interface DockerProfile {
  defaultAction?: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  flags?: string[];
  syscalls?: Array<{
    name?: string;
    names?: string[];
    action: SeccompAction;
    errnoRet?: number;
    args?: OciSeccompArg[] | null;
    includes?: { caps?: string[]; arches?: string[] };
    excludes?: { caps?: string[]; arches?: string[] };
  }>;
}

/**
 * Converts a user-supplied profile (docker's format, or an OCI `linux.seccomp` object) for a container holding `caps`.
 * Throws on malformed JSON.
 */
export function seccompFromProfile(json: string, caps: string[]): OciSeccomp {
  let p: DockerProfile;
  try {
    p = JSON.parse(json) as DockerProfile;
  } catch (e) {
    throw new Error(`decoding seccomp profile failed: ${(e as Error).message}`, { cause: e });
  }
  if (!p || typeof p !== 'object' || typeof p.defaultAction !== 'string') {
    throw new Error('decoding seccomp profile failed: defaultAction is required');
  }
  const held = new Set(caps.map(normalizeCap));
  const arches = architectures();
  let archList: string[] | undefined = p.architectures;
  if (p.archMap) {
    archList = [];
    for (const a of p.archMap) {
      if (arches.includes(a.architecture)) archList.push(a.architecture, ...(a.subArchitectures ?? []));
    }
  }
  const syscalls: OciSeccompSyscall[] = [];
  for (const s of p.syscalls ?? []) {
    const inc = s.includes ?? {};
    const exc = s.excludes ?? {};
    if (inc.caps?.length && !inc.caps.every((c) => held.has(normalizeCap(c)))) continue;
    if (exc.caps?.some((c) => held.has(normalizeCap(c)))) continue;
    if (inc.arches?.length && !inc.arches.some((a) => arches.some((x) => x.toLowerCase().endsWith(a.toLowerCase())))) continue;
    if (exc.arches?.some((a) => arches.some((x) => x.toLowerCase().endsWith(a.toLowerCase())))) continue;
    const names = s.names ?? (s.name ? [s.name] : []);
    if (names.length === 0) continue;
    const out: OciSeccompSyscall = { names, action: s.action };
    if (s.errnoRet !== undefined) out.errnoRet = s.errnoRet;
    if (s.args && s.args.length) out.args = s.args;
    syscalls.push(out);
  }
  const out: OciSeccomp = { defaultAction: p.defaultAction, syscalls };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  if (archList && archList.length) out.architectures = archList;
  if (p.flags?.length) out.flags = p.flags;
  return out;
}
