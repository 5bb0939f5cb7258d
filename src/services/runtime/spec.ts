// Builds the OCI runtime config.json for a container from docker's HostConfig and the resolved process.
// Pure apart from reading host device nodes (for --device and --privileged).
import { readdirSync, lstatSync, statSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostConfig } from '../containers/types.js';
import { badRequest } from '../../util/errors.js';
import { parseBytes } from '../../util/units.js';
import { defaultSeccomp, seccompFromProfile, type OciSeccomp } from './seccomp.js';

// ---------------------------------------------------------------------------------------------
// The subset of the OCI runtime-spec config.json we produce.

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  umask?: number;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
}

export type OciNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface OciNamespace {
  type: OciNamespaceType;
  path?: string;
}

export interface OciDevice {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroupRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciResources {
  devices?: OciDeviceCgroupRule[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    cpus?: string;
    mems?: string;
  };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    weightDevice?: Array<BlockDevice & { weight: number }>;
    throttleReadBpsDevice?: Array<BlockDevice & { rate: number }>;
    throttleWriteBpsDevice?: Array<BlockDevice & { rate: number }>;
    throttleReadIOPSDevice?: Array<BlockDevice & { rate: number }>;
    throttleWriteIOPSDevice?: Array<BlockDevice & { rate: number }>;
  };
}

interface BlockDevice { major: number; minor: number }

export interface OciLinux {
  namespaces: OciNamespace[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: OciResources;
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: OciLinux;
  annotations?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Input

/** true = create a new namespace; a string = join the namespace at that path (e.g. /proc/<pid>/ns/net); false = share the host's. */
export type NamespaceChoice = boolean | string;

export interface SpecNamespaces {
  mnt?: boolean; // default true (a container always gets its own mount namespace)
  pid?: NamespaceChoice; // default true
  net?: NamespaceChoice; // default true
  ipc?: NamespaceChoice; // default true
  uts?: NamespaceChoice; // default true
  cgroup?: NamespaceChoice; // default false (docker uses a private one on cgroup v2 hosts: pass true there)
  /** The network namespace, even when given by path, is the container's alone (made for it, not another's or the host's). */
  netIsPrivate?: boolean;
}

export interface SpecInput {
  id: string;
  /** Absolute path of the container's root filesystem (the overlay mount). */
  rootfs: string;
  /** The process to run (entrypoint + cmd, already resolved). */
  args: string[];
  env: string[];
  /** Working directory inside the container; "/" when empty. */
  cwd?: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  tty: boolean;
  hostname?: string;
  domainname?: string;
  hostConfig: HostConfig;
  /** e.g. "/tugboat/<id>" (cgroupfs driver). */
  cgroupsPath: string;
  /** /etc/hosts, /etc/resolv.conf, /etc/hostname bind mounts, supplied by the caller. */
  etcMounts?: Array<{ source: string; destination: string; options?: string[] }>;
  /** Further mounts (volumes, binds) already resolved by the volumes service; they override defaults at the same destination. */
  mounts?: OciMount[];
  /** Host path of a static init (e.g. /usr/bin/tini-static); used when hostConfig.Init is true. */
  initPath?: string;
  namespaces?: SpecNamespaces;
  /** Whether the host's memory cgroup accounts swap (see cgroups.swapAccounting()); default true. */
  swapAccounting?: boolean;
  annotations?: Record<string, string>;
  /** What --privileged / --cap-add ALL grant; default hostCapabilities() (the daemon's bounding set). */
  availableCapabilities?: readonly string[];
  /** RLIMIT_NOFILE (soft = hard) when Ulimits does not set one; default defaultNofile(). */
  defaultNofile?: number;
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/** Every capability the kernel knows (to CAP_CHECKPOINT_RESTORE, 40), in number order. */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (DESIGN.md "Security defaults"). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

function normalizeCapabilities(list: string[] | null | undefined, field: string): string[] {
  const out: string[] = [];
  for (const raw of list ?? []) {
    const u = raw.trim().toUpperCase();
    if (u === 'ALL') {
      out.push('ALL');
      continue;
    }
    const name = u.startsWith('CAP_') ? u : `CAP_${u}`;
    if (!ALL_CAPABILITIES.includes(name)) throw badRequest(`invalid ${field}: unknown capability: "${name}"`);
    out.push(name);
  }
  return out;
}

let hostCaps: string[] | undefined;

/**
 * The capabilities this daemon can hand out: the known ones in its own bounding set
 * (what --privileged and --cap-add ALL mean; a sandboxed daemon may lack some).
 */
export function hostCapabilities(): string[] {
  if (hostCaps) return hostCaps;
  let caps = [...ALL_CAPABILITIES];
  try {
    const bnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (bnd) {
      const mask = BigInt('0x' + bnd);
      caps = ALL_CAPABILITIES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n);
    }
  } catch {
    // not Linux: assume everything
  }
  hostCaps = caps;
  return caps;
}

/** The capability set after --privileged, --cap-add and --cap-drop, sorted by capability number. */
export function resolveCapabilities(hc: Pick<HostConfig, 'CapAdd' | 'CapDrop' | 'Privileged'>, available: readonly string[] = hostCapabilities()): string[] {
  if (hc.Privileged) return ALL_CAPABILITIES.filter((c) => available.includes(c));
  const add = normalizeCapabilities(hc.CapAdd, 'CapAdd');
  const drop = normalizeCapabilities(hc.CapDrop, 'CapDrop');
  let caps: Set<string>;
  if (add.includes('ALL')) {
    caps = new Set(ALL_CAPABILITIES.filter((c) => available.includes(c) && !drop.includes(c)));
  } else if (drop.includes('ALL')) {
    caps = new Set(add);
  } else {
    caps = new Set(DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)));
    for (const c of add) caps.add(c);
  }
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}

// ---------------------------------------------------------------------------------------------
// Paths and devices

export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/sched_debug', '/proc/scsi', '/proc/timer_list', '/proc/timer_stats', '/sys/devices/virtual/powercap',
  '/sys/firmware',
];

export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * `--device-cgroup-rule` ("c 1:3 mr", "b 8:* rw", "a *:* rwm"): a device cgroup rule allowing access, as docker
 * reads it; `*` is every major or minor number.
 */
export function deviceCgroupRule(rule: string): OciDeviceCgroupRule {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) throw badRequest(`invalid device cgroup format '${rule}'`);
  const num = (v: string) => (v === '*' ? undefined : Number(v));
  return { allow: true, type: m[1] as 'a' | 'c' | 'b', major: num(m[2]), minor: num(m[3]), access: m[4] };
}

/** The character devices every container may use (the runtime creates their nodes in /dev). */
const DEFAULT_DEVICE_RULES: OciDeviceCgroupRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' }, // mknod of any char device (using it stays denied)
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
];

/** Linux dev_t split the way glibc's major()/minor() do, without 32-bit bitwise truncation. */
function devMajorMinor(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) + ((lo >>> 20) & 0xfff) * 2 ** 8 + (hi & 0xfff) * 2 ** 20;
  return { major: major >>> 0, minor };
}

function deviceAt(hostPath: string, containerPath: string): OciDevice | undefined {
  const st = statSync(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  const { major, minor } = devMajorMinor(st.rdev);
  return { type, path: containerPath, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Host device nodes for --device: a node, or a directory of nodes (walked). */
function userDevices(hostPath: string, containerPath: string): OciDevice[] {
  let st;
  try {
    st = statSync(hostPath);
  } catch {
    throw badRequest(`error gathering device information while adding custom device "${hostPath}": no such file or directory`);
  }
  if (st.isDirectory()) {
    const out: OciDevice[] = [];
    for (const name of readdirSync(hostPath)) {
      const lst = lstatSync(join(hostPath, name));
      if (lst.isSymbolicLink()) continue;
      if (lst.isDirectory()) out.push(...userDevices(join(hostPath, name), join(containerPath, name)));
      else if (lst.isCharacterDevice() || lst.isBlockDevice()) {
        const d = deviceAt(join(hostPath, name), join(containerPath, name));
        if (d) out.push(d);
      }
    }
    return out;
  }
  const d = deviceAt(hostPath, containerPath);
  if (!d) throw badRequest(`error gathering device information while adding custom device "${hostPath}": not a device node`);
  return [d];
}

const HOST_DEV_SKIP = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/fd', '/dev/.lxc', '/dev/.udev']);
/** Nodes created by the runtime itself or by our /dev mounts; never copied from the host. */
const RUNTIME_DEVICES = new Set(['/dev/console', '/dev/ptmx', '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);

/** All device nodes under the host's /dev, for --privileged. */
export function hostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (HOST_DEV_SKIP.has(p) || RUNTIME_DEVICES.has(p)) continue;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push(...hostDevices(p));
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = devMajorMinor(st.rdev);
      out.push({ type: st.isCharacterDevice() ? 'c' : 'b', path: p, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Security options

interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined' | { profile: string };
  apparmor?: string;
  systemPathsUnconfined: boolean;
}

const truthy = (v: string): boolean => {
  const s = v.toLowerCase();
  if (s === '' || s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw badRequest(`invalid --security-opt value: "${v}"`);
};

export function parseSecurityOpts(opts: string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', systemPathsUnconfined: false };
  for (const opt of opts ?? []) {
    // docker accepts both key=value and (legacy) key:value
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt);
    if (!m) throw badRequest(`invalid --security-opt: "${opt}"`);
    const [, key, value = ''] = m;
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = truthy(value);
        break;
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else if (value === '' || value === 'builtin') out.seccomp = 'default';
        else out.seccomp = { profile: value };
        break;
      case 'apparmor':
        out.apparmor = value;
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw badRequest(`invalid --security-opt systempaths: "${value}"`);
        out.systemPathsUnconfined = true;
        break;
      case 'label':
        break; // SELinux labels: accepted, nothing to do on hosts without SELinux
      default:
        throw badRequest(`invalid --security-opt: "${opt}"`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mounts

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

function defaultMounts(shmSize: number, privileged: boolean, ownIpc: boolean, ownCgroupns: boolean): OciMount[] {
  const m: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged && ownCgroupns ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  if (ownIpc) {
    m.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] });
  }
  return m;
}

/** --tmpfs options merged over docker's defaults (noexec, nosuid, nodev). */
export function tmpfsOptions(opts: string): string[] {
  const flags = new Map<string, string>([['exec', 'noexec'], ['suid', 'nosuid'], ['dev', 'nodev']]);
  const data: string[] = [];
  for (const raw of opts.split(',').map((s) => s.trim()).filter(Boolean)) {
    const o = raw.toLowerCase();
    if (['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev'].includes(o)) {
      const k = o.startsWith('no') ? o.slice(2) : o;
      flags.set(k, o);
    } else if (o.startsWith('size=')) {
      // accept docker's human sizes ("64m", "1g") as well as the kernel's ("65536k", "50%")
      const v = raw.slice(5);
      data.push(/%$/.test(v) ? `size=${v}` : `size=${parseBytes(v)}`);
    } else if (o.startsWith('mode=')) {
      if (!/^[0-7]{1,4}$/.test(raw.slice(5))) throw badRequest(`invalid tmpfs mode: "${raw}"`);
      data.push(raw);
    } else if (o.startsWith('tmpfs-size=') || o.startsWith('tmpfs-mode=')) {
      throw badRequest(`invalid tmpfs option: "${raw}"`);
    } else {
      data.push(raw);
    }
  }
  return [...flags.values(), ...data];
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

/** Defaults, then caller's mounts; a later mount at the same destination replaces an earlier one; parents before children. */
function mergeMounts(defaults: OciMount[], user: OciMount[]): OciMount[] {
  const userDest = new Set(user.map((m) => m.destination.replace(/\/+$/, '') || '/'));
  const kept = defaults.filter((m) => !userDest.has(m.destination) && ![...userDest].some((d) => m.destination.startsWith(d + '/')));
  // stable sort of user mounts by depth so /a is mounted before /a/b
  const seen = new Map<string, OciMount>();
  for (const m of user) seen.set(m.destination, m);
  const sortedUser = [...seen.values()].map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
  return [...kept, ...sortedUser];
}

// ---------------------------------------------------------------------------------------------
// Resources

const ULIMITS: Record<string, string> = {
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
};

export const DEFAULT_NOFILE = 1048576;

let nofileCeiling: number | undefined;

/**
 * The RLIMIT_NOFILE containers get by default: docker's 1048576, lowered to what this daemon may grant
 * (fs.nr_open, or its own hard limit when it lacks CAP_SYS_RESOURCE, as in some sandboxes).
 */
export function defaultNofile(): number {
  if (nofileCeiling !== undefined) return nofileCeiling;
  let limit = DEFAULT_NOFILE;
  try {
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
    if (nrOpen > 0) limit = Math.min(limit, nrOpen);
    const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const CAP_SYS_RESOURCE = 24n;
    if (capEff && ((BigInt('0x' + capEff) >> CAP_SYS_RESOURCE) & 1n) === 0n) {
      const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
      if (m && m[1] !== 'unlimited') limit = Math.min(limit, Number(m[1]));
    }
  } catch {
    // not Linux, or /proc unreadable: keep docker's value
  }
  nofileCeiling = limit;
  return limit;
}

function rlimits(hc: HostConfig, nofile: number): OciRlimit[] {
  const byType = new Map<string, OciRlimit>([['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', soft: nofile, hard: nofile }]]);
  for (const u of hc.Ulimits ?? []) {
    const type = ULIMITS[String(u.Name).toLowerCase()];
    if (!type) throw badRequest(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw badRequest(`invalid ulimit: soft limit ${u.Soft} for ${u.Name} is greater than hard limit ${u.Hard}`);
    byType.set(type, { type, soft: u.Soft, hard: u.Hard });
  }
  return [...byType.values()];
}

const CPU_PERIOD = 100000;

/** linux.resources for a HostConfig (also what `update` hands the runtime for a running container). */
export function resources(hc: HostConfig, swapAccounting: boolean): OciResources {
  const r: OciResources = {};
  const mem: NonNullable<OciResources['memory']> = {};
  const memory = hc.Memory ?? 0;
  const memorySwap = hc.MemorySwap ?? 0;
  if (memory < 0) throw badRequest('invalid memory limit');
  if (memory > 0 && memory < 6 * 1024 * 1024) throw badRequest('Minimum memory limit allowed is 6MB');
  if (memory > 0) {
    mem.limit = memory;
    if (swapAccounting) {
      if (memorySwap === -1) mem.swap = -1;
      else if (memorySwap > 0) {
        if (memorySwap < memory) throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
        mem.swap = memorySwap;
      } else mem.swap = memory * 2;
    }
  } else if (memorySwap > 0) {
    throw badRequest('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  const reservation = hc.MemoryReservation ?? 0;
  if (reservation > 0) {
    if (memory > 0 && reservation > memory) throw badRequest('Minimum memory limit can not be less than memory reservation limit, see usage');
    mem.reservation = reservation;
  }
  const swappiness = hc.MemorySwappiness;
  if (typeof swappiness === 'number' && swappiness >= 0) {
    if (swappiness > 100) throw badRequest(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    mem.swappiness = swappiness;
  }
  if (hc.OomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length) r.memory = mem;

  const cpu: NonNullable<OciResources['cpu']> = {};
  const nano = hc.NanoCpus ?? 0;
  if (nano < 0) throw badRequest('invalid NanoCpus');
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.round((nano * CPU_PERIOD) / 1e9);
  } else {
    if ((hc.CpuPeriod ?? 0) > 0) {
      if (hc.CpuPeriod! < 1000 || hc.CpuPeriod! > 1000000) throw badRequest('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
      cpu.period = hc.CpuPeriod;
    }
    if ((hc.CpuQuota ?? 0) > 0) {
      if (hc.CpuQuota! < 1000) throw badRequest('CPU cfs quota can not be less than 1ms (i.e. 1000)');
      cpu.quota = hc.CpuQuota;
    }
  }
  if ((hc.CpuShares ?? 0) > 0) cpu.shares = hc.CpuShares;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;

  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  const blockIO: NonNullable<OciResources['blockIO']> = {};
  const blkioWeight = hc.BlkioWeight;
  if (typeof blkioWeight === 'number' && blkioWeight > 0) {
    if (blkioWeight < 10 || blkioWeight > 1000) throw badRequest('Range of blkio weight is from 10 to 1000');
    blockIO.weight = blkioWeight;
  }
  const weights = (hc.BlkioWeightDevice ?? []).map((w) => {
    if (!Number.isInteger(w.Weight) || w.Weight < 10 || w.Weight > 1000) throw badRequest(`invalid weight for device ${w.Path}: ${w.Weight}: range of blkio weight is from 10 to 1000`);
    return { ...blockDevice(w.Path), weight: w.Weight };
  });
  if (weights.length) blockIO.weightDevice = weights;
  const throttles = [
    ['throttleReadBpsDevice', hc.BlkioDeviceReadBps], ['throttleWriteBpsDevice', hc.BlkioDeviceWriteBps],
    ['throttleReadIOPSDevice', hc.BlkioDeviceReadIOps], ['throttleWriteIOPSDevice', hc.BlkioDeviceWriteIOps],
  ] as const;
  for (const [key, list] of throttles) {
    const limits = (list ?? []).map((t) => {
      if (!Number.isSafeInteger(t.Rate) || t.Rate < 0) throw badRequest(`invalid rate for device ${t.Path}: ${t.Rate}`);
      return { ...blockDevice(t.Path), rate: t.Rate };
    });
    if (limits.length) blockIO[key] = limits;
  }
  if (Object.keys(blockIO).length) r.blockIO = blockIO;
  return r;
}

/** The major and minor numbers of a host block device named in a blkio limit. */
function blockDevice(path: string): BlockDevice {
  let st;
  try { st = statSync(path); } catch { throw badRequest(`no such device: ${path}`); }
  if (!st.isBlockDevice()) throw badRequest(`${path} is not a block device`);
  return devMajorMinor(st.rdev);
}

// ---------------------------------------------------------------------------------------------
// Sysctls

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

let netDefaults: Record<string, string> | undefined;
/**
 * What docker sets in every network namespace a container has of its own: any user may open ports below 1024
 * and send ICMP echo through datagram sockets, without capabilities (where the kernel has these sysctls).
 */
function netNamespaceDefaults(): Record<string, string> {
  if (!netDefaults) {
    netDefaults = {};
    if (existsSync('/proc/sys/net/ipv4/ping_group_range')) netDefaults['net.ipv4.ping_group_range'] = '0 2147483647';
    if (existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start')) netDefaults['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  return netDefaults;
}

/** Only namespaced sysctls, and only for namespaces the container owns (docker's rule). */
function validateSysctls(sysctls: Record<string, string>, ownIpc: boolean, ownNet: boolean, ownUts: boolean): void {
  for (const key of Object.keys(sysctls)) {
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (!ownIpc) throw badRequest(`sysctl "${key}" not allowed with host (or shared) IPC namespace`);
    } else if (key.startsWith('net.')) {
      if (!ownNet) throw badRequest(`sysctl "${key}" not allowed with host (or shared) network namespace`);
    } else if (key === 'kernel.domainname' || key === 'kernel.hostname') {
      if (!ownUts) throw badRequest(`sysctl "${key}" not allowed with host UTS namespace`);
    } else {
      throw badRequest(`sysctl "${key}" is not whitelisted`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function oomScoreAdj(hc: HostConfig): number {
  const v = hc.OomScoreAdj;
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1000 || v > 1000) throw badRequest(`Invalid value ${String(v)}, range for oom score adj is [-1000, 1000]`);
  return v;
}

export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

function namespaceList(ns: SpecNamespaces): OciNamespace[] {
  const out: OciNamespace[] = [];
  const add = (type: OciNamespaceType, v: NamespaceChoice | undefined, dflt: boolean) => {
    const choice = v ?? dflt;
    if (choice === false) return;
    out.push(typeof choice === 'string' ? { type, path: choice } : { type });
  };
  add('mount', ns.mnt, true);
  add('pid', ns.pid, true);
  add('network', ns.net, true);
  add('ipc', ns.ipc, true);
  add('uts', ns.uts, true);
  add('cgroup', ns.cgroup, false);
  return out;
}

export function buildSpec(input: SpecInput): OciSpec {
  const hc = input.hostConfig ?? {};
  if (!input.rootfs.startsWith('/')) throw new Error(`rootfs must be absolute: ${input.rootfs}`);
  if (input.args.length === 0) throw badRequest('No command specified');
  const privileged = hc.Privileged === true;
  const sec = parseSecurityOpts(hc.SecurityOpt);
  const caps = resolveCapabilities(hc, input.availableCapabilities ?? hostCapabilities());
  const ns = input.namespaces ?? {};
  const namespaces = namespaceList(ns);
  const owns = (t: OciNamespaceType) => namespaces.some((n) => n.type === t && !n.path);
  const ownUts = owns('uts');
  const ownNet = ns.netIsPrivate ?? owns('network');

  // process
  const useInit = hc.Init === true;
  if (useInit && !input.initPath) throw badRequest('--init requested but no init binary is configured (install tini: /usr/bin/tini-static)');
  const args = useInit ? [INIT_PATH_IN_CONTAINER, '--', ...input.args] : [...input.args];
  const proc: OciProcess = {
    terminal: input.tty,
    user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids?.length ? { additionalGids: [...input.user.additionalGids] } : {}) },
    args,
    env: [...input.env],
    cwd: input.cwd || '/',
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
    rlimits: rlimits(hc, input.defaultNofile ?? defaultNofile()),
    noNewPrivileges: sec.noNewPrivileges,
    oomScoreAdj: oomScoreAdj(hc),
  };
  if (sec.apparmor && sec.apparmor !== 'unconfined') proc.apparmorProfile = sec.apparmor;

  // mounts
  const shmSize = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  const defaults = defaultMounts(shmSize, privileged, owns('ipc'), owns('cgroup'));
  const user: OciMount[] = [];
  for (const m of input.etcMounts ?? []) {
    user.push({ destination: m.destination, type: 'bind', source: m.source, options: m.options?.length ? [...m.options] : ['rbind', 'rprivate'] });
  }
  for (const m of input.mounts ?? []) user.push(m);
  for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw badRequest(`invalid mount path: '${dest}' mount path must be absolute`);
    user.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(opts ?? '') });
  }
  if (useInit) user.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: input.initPath!, options: ['bind', 'ro'] });
  const mounts = mergeMounts(defaults, user);

  // linux
  const res = resources(hc, input.swapAccounting ?? true);
  const devices: OciDevice[] = [];
  let deviceRules: OciDeviceCgroupRule[];
  if (privileged) {
    deviceRules = [{ allow: true, access: 'rwm' }];
    devices.push(...hostDevices());
  } else {
    deviceRules = DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  }
  for (const d of hc.Devices ?? []) {
    const inContainer = d.PathInContainer || d.PathOnHost;
    const access = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(access)) throw badRequest(`invalid device cgroup permissions: "${access}"`);
    for (const dev of userDevices(d.PathOnHost, inContainer)) {
      const i = devices.findIndex((x) => x.path === dev.path);
      if (i >= 0) devices.splice(i, 1);
      devices.push(dev);
      if (!privileged) deviceRules.push({ allow: true, type: dev.type as 'c' | 'b', major: dev.major, minor: dev.minor, access });
    }
  }
  if (!privileged) for (const rule of hc.DeviceCgroupRules ?? []) deviceRules.push(deviceCgroupRule(rule));
  res.devices = deviceRules;

  const linux: OciLinux = {
    namespaces,
    cgroupsPath: input.cgroupsPath,
    resources: res,
    maskedPaths: privileged || sec.systemPathsUnconfined ? [] : [...MASKED_PATHS],
    readonlyPaths: privileged || sec.systemPathsUnconfined ? [] : [...READONLY_PATHS],
  };
  if (devices.length) linux.devices = devices;
  const sysctls = hc.Sysctls ?? {};
  if (Object.keys(sysctls).length) validateSysctls(sysctls, owns('ipc'), ownNet, ownUts);
  // the user's own sysctls win over docker's defaults for a network namespace of the container's own
  const allSysctls = { ...(ownNet ? netNamespaceDefaults() : {}), ...sysctls };
  if (Object.keys(allSysctls).length) linux.sysctl = allSysctls;
  if (!privileged && sec.seccomp !== 'unconfined') {
    linux.seccomp = sec.seccomp === 'default' ? defaultSeccomp(caps) : seccompFromProfileOrBadRequest(sec.seccomp.profile, caps);
  }

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: proc,
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs === true },
    mounts,
    linux,
  };
  if (ownUts && input.hostname) spec.hostname = input.hostname;
  if (ownUts && input.domainname) spec.domainname = input.domainname;
  if (input.annotations && Object.keys(input.annotations).length) spec.annotations = { ...input.annotations };
  return spec;
}

function seccompFromProfileOrBadRequest(profile: string, caps: string[]): OciSeccomp {
  try {
    return seccompFromProfile(profile, caps);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
}
