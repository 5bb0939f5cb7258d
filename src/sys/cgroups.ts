// Where a container's cgroup lives on this host, and the few numbers we read from it.
// Handles cgroup v1, hybrid (v1 controllers + a cgroup2 mount, usually /sys/fs/cgroup/unified) and pure v2.
import { readFileSync, readdirSync, rmdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type CgroupLayout = 'v1' | 'hybrid' | 'v2';

export interface CgroupHierarchy {
  version: 1 | 2;
  mountpoint: string;
  /** v1: the controllers bound to this hierarchy ("cpu", "cpuacct", "name=systemd"…); v2: cgroup.controllers. */
  controllers: string[];
}

export interface CgroupHost {
  layout: CgroupLayout;
  hierarchies: CgroupHierarchy[];
}

/** Mount options of a v1 cgroup mount that are not controllers. */
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode', 'favordynmods', 'nsdelegate', 'memory_recursiveprot', 'memory_localevents']);

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo text into cgroup hierarchies. `readControllers` reads a v2 mount's cgroup.controllers. */
export function parseCgroupMounts(mountinfo: string, readControllers: (mountpoint: string) => string[] = v2Controllers): CgroupHierarchy[] {
  const out: CgroupHierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    if (!line) continue;
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(' ');
    const post = line.slice(dash + 3).split(' ');
    const mountpoint = unescapeMountPath(pre[4] ?? '');
    const fstype = post[0];
    const superOpts = post[2] ?? '';
    if (!mountpoint || seen.has(mountpoint)) continue;
    if (fstype === 'cgroup2') {
      seen.add(mountpoint);
      out.push({ version: 2, mountpoint, controllers: readControllers(mountpoint) });
    } else if (fstype === 'cgroup') {
      seen.add(mountpoint);
      const controllers = superOpts.split(',').filter((o) => o && !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent='));
      out.push({ version: 1, mountpoint, controllers });
    }
  }
  return out;
}

function v2Controllers(mountpoint: string): string[] {
  try {
    return readFileSync(join(mountpoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** Classifies a set of hierarchies. */
export function layoutOf(hierarchies: CgroupHierarchy[]): CgroupLayout {
  const v1 = hierarchies.some((h) => h.version === 1 && h.controllers.some((c) => !c.startsWith('name=')));
  const v2 = hierarchies.some((h) => h.version === 2);
  if (v1) return v2 ? 'hybrid' : 'v1';
  return 'v2';
}

let host: CgroupHost | undefined;

/** The host's cgroup hierarchies, detected once. */
export function cgroupHost(): CgroupHost {
  if (host) return host;
  let hierarchies: CgroupHierarchy[] = [];
  try {
    hierarchies = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    // fall through to the /sys/fs/cgroup probe below
  }
  if (hierarchies.length === 0 && existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    hierarchies = [{ version: 2, mountpoint: '/sys/fs/cgroup', controllers: v2Controllers('/sys/fs/cgroup') }];
  }
  host = { layout: layoutOf(hierarchies), hierarchies };
  return host;
}

export function cgroupLayout(): CgroupLayout {
  return cgroupHost().layout;
}

/** Whether the memory controller can limit swap (v1: memsw files, needs swapaccount=1; v2: memory.swap.max). */
export function swapAccounting(h: CgroupHost = cgroupHost()): boolean {
  if (h.layout === 'v2') {
    const root = h.hierarchies.find((x) => x.version === 2);
    if (!root) return false;
    // the root cgroup has no memory.swap.max; a child of the root shows whether the kernel accounts swap
    try {
      for (const d of readdirSync(root.mountpoint, { withFileTypes: true })) {
        if (d.isDirectory() && existsSync(join(root.mountpoint, d.name, 'memory.max'))) {
          return existsSync(join(root.mountpoint, d.name, 'memory.swap.max'));
        }
      }
    } catch {
      return false;
    }
    return false;
  }
  const mem = h.hierarchies.find((x) => x.version === 1 && x.controllers.includes('memory'));
  return !!mem && existsSync(join(mem.mountpoint, 'memory.memsw.limit_in_bytes'));
}

// ---------------------------------------------------------------------------------------------

export interface MemoryStats {
  /** Bytes in use as the kernel counts them (v1 usage_in_bytes, v2 memory.current). */
  usage: number;
  /** The limit in bytes; undefined when unlimited. */
  limit?: number;
  /** memory.stat as numbers (v1 and v2 use different keys: cache/total_inactive_file vs file/inactive_file). */
  stat: Record<string, number>;
  /** v1's high-water mark (memory.max_usage_in_bytes); v2 has none. */
  maxUsage?: number;
}

export interface CpuStats {
  /** Total CPU time in nanoseconds. */
  usageNs: number;
  /** User and system time in nanoseconds, when the kernel reports them. */
  userNs?: number;
  systemNs?: number;
  /** v1's time per CPU (cpuacct.usage_percpu), in nanoseconds. */
  perCpuNs?: number[];
  /** CFS quota enforcement (cpu.stat): periods, periods throttled, time throttled in nanoseconds. */
  throttling?: { periods: number; throttledPeriods: number; throttledNs: number };
}

/** One block I/O counter, as docker's blkio_stats entries. */
export interface BlkioEntry { major: number; minor: number; op: string; value: number }

/** v1 throttle files: "8:0 Read 4096" lines (the "Total" lines are sums and skipped). */
export function parseBlkioV1(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=… wbytes=… rios=… wios=…" → bytes and operations, read and write. */
export function parseIoStatV2(text: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[3].split(/\s+/).map((p) => p.split('=')).filter((x) => x.length === 2).map(([k, v]) => [k, Number(v)]));
    const dev = { major: Number(m[1]), minor: Number(m[2]) };
    bytes.push({ ...dev, op: 'read', value: kv.rbytes ?? 0 }, { ...dev, op: 'write', value: kv.wbytes ?? 0 });
    ios.push({ ...dev, op: 'read', value: kv.rios ?? 0 }, { ...dev, op: 'write', value: kv.wios ?? 0 });
  }
  return { bytes, ios };
}

export interface ContainerCgroup {
  readonly path: string;
  readonly layout: CgroupLayout;
  /** The directory holding `controller` ("memory", "pids", "cpu", "cpuacct"…); on v2, the unified directory. */
  dir(controller: string): string | undefined;
  /** Every directory this cgroup has, one per hierarchy (what removeCgroup rmdirs). */
  dirs(): string[];
  memory(): MemoryStats | undefined;
  /** Number of OOM kills recorded for this cgroup (v1 without oom_kill: 1 when the limit was ever hit). */
  oomKills(): number;
  /** Pids of every process in the cgroup and its children. */
  pids(): number[];
  pidsCount(): { current: number; limit?: number } | undefined;
  cpu(): CpuStats | undefined;
  /** Bytes and operations per device and direction; undefined without the blkio/io controller. */
  blkio(): { bytes: BlkioEntry[]; ios: BlkioEntry[] } | undefined;
  remove(): Promise<void>;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number | undefined {
  const t = readText(path)?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control) as numbers. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** v1 reports "unlimited" as a page-rounded INT64_MAX. */
const V1_UNLIMITED = 2 ** 62;

function collectPids(dir: string, out: Set<number>): void {
  const t = readText(join(dir, 'cgroup.procs'));
  if (t === undefined) return;
  for (const l of t.split('\n')) {
    const n = Number(l.trim());
    if (l.trim() && Number.isInteger(n)) out.add(n);
  }
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) collectPids(join(dir, e.name), out);
}

const sub = (mountpoint: string, path: string): string => join(mountpoint, path.replace(/^\/+/, ''));

/** The cgroup at `path` (relative to each hierarchy's root, e.g. "/tugboat/<id>"). */
export function containerCgroup(path: string, h: CgroupHost = cgroupHost()): ContainerCgroup {
  if (!path.startsWith('/') || path.split('/').includes('..')) throw new Error(`invalid cgroup path: ${path}`);
  const unified = h.hierarchies.find((x) => x.version === 2);
  const v1 = (controller: string) => h.hierarchies.find((x) => x.version === 1 && x.controllers.includes(controller));

  const dir = (controller: string): string | undefined => {
    if (h.layout === 'v2') return unified ? sub(unified.mountpoint, path) : undefined;
    const m = v1(controller);
    if (m) return sub(m.mountpoint, path);
    // hybrid hosts may put a controller (e.g. hugetlb, or all of them) on the unified mount
    if (unified && unified.controllers.includes(controller)) return sub(unified.mountpoint, path);
    return undefined;
  };

  const self: ContainerCgroup = {
    path,
    layout: h.layout,
    dir,
    dirs: () => h.hierarchies.map((x) => sub(x.mountpoint, path)),

    memory() {
      const d = dir('memory');
      if (!d) return undefined;
      if (h.layout === 'v2') {
        const usage = readNumber(join(d, 'memory.current'));
        if (usage === undefined) return undefined;
        return { usage, limit: readNumber(join(d, 'memory.max')), stat: parseKeyValues(readText(join(d, 'memory.stat')) ?? '') };
      }
      const usage = readNumber(join(d, 'memory.usage_in_bytes'));
      if (usage === undefined) return undefined;
      const limit = readNumber(join(d, 'memory.limit_in_bytes'));
      const maxUsage = readNumber(join(d, 'memory.max_usage_in_bytes'));
      return { usage, limit: limit === undefined || limit >= V1_UNLIMITED ? undefined : limit, stat: parseKeyValues(readText(join(d, 'memory.stat')) ?? ''), ...(maxUsage !== undefined ? { maxUsage } : {}) };
    },

    oomKills() {
      const d = dir('memory');
      if (!d) return 0;
      if (h.layout === 'v2') return parseKeyValues(readText(join(d, 'memory.events')) ?? '').oom_kill ?? 0;
      const ctl = parseKeyValues(readText(join(d, 'memory.oom_control')) ?? '');
      if (ctl.oom_kill !== undefined) return ctl.oom_kill;
      // kernels before 4.13: the failure counter only says the limit was hit
      return (readNumber(join(d, 'memory.failcnt')) ?? 0) > 0 ? 1 : 0;
    },

    pids() {
      const out = new Set<number>();
      // any hierarchy holds every process; prefer pids, then the unified one, then whatever exists
      const candidates = [dir('pids'), unified && sub(unified.mountpoint, path), ...self.dirs()].filter((x): x is string => !!x);
      for (const c of candidates) {
        if (existsSync(c)) {
          collectPids(c, out);
          break;
        }
      }
      return [...out].sort((a, b) => a - b);
    },

    pidsCount() {
      const d = dir('pids');
      if (!d) return undefined;
      const current = readNumber(join(d, 'pids.current'));
      if (current === undefined) return undefined;
      return { current, limit: readNumber(join(d, 'pids.max')) };
    },

    cpu() {
      if (h.layout === 'v2') {
        const d = dir('cpu');
        const t = d && readText(join(d, 'cpu.stat'));
        if (!t) return undefined;
        const s = parseKeyValues(t);
        if (s.usage_usec === undefined) return undefined;
        return {
          usageNs: s.usage_usec * 1000, userNs: s.user_usec !== undefined ? s.user_usec * 1000 : undefined, systemNs: s.system_usec !== undefined ? s.system_usec * 1000 : undefined,
          throttling: { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledNs: (s.throttled_usec ?? 0) * 1000 },
        };
      }
      const d = dir('cpuacct');
      if (!d) return undefined;
      const usageNs = readNumber(join(d, 'cpuacct.usage'));
      if (usageNs === undefined) return undefined;
      // cpuacct.stat counts USER_HZ ticks (100 per second on Linux)
      const s = parseKeyValues(readText(join(d, 'cpuacct.stat')) ?? '');
      const perCpu = readText(join(d, 'cpuacct.usage_percpu'))?.trim().split(/\s+/).map(Number).filter((n) => Number.isFinite(n));
      const cpuDir = dir('cpu');
      const t = parseKeyValues((cpuDir && readText(join(cpuDir, 'cpu.stat'))) || '');
      return {
        usageNs, userNs: s.user !== undefined ? s.user * 1e7 : undefined, systemNs: s.system !== undefined ? s.system * 1e7 : undefined,
        perCpuNs: perCpu?.length ? perCpu : undefined,
        throttling: { periods: t.nr_periods ?? 0, throttledPeriods: t.nr_throttled ?? 0, throttledNs: t.throttled_time ?? 0 },
      };
    },

    blkio() {
      if (h.layout === 'v2') {
        const d = dir('io');
        const t = d ? readText(join(d, 'io.stat')) : undefined;
        return t === undefined ? undefined : parseIoStatV2(t);
      }
      const d = dir('blkio');
      if (!d) return undefined;
      const bytes = readText(join(d, 'blkio.throttle.io_service_bytes_recursive'));
      if (bytes === undefined) return undefined;
      return { bytes: parseBlkioV1(bytes), ios: parseBlkioV1(readText(join(d, 'blkio.throttle.io_serviced_recursive')) ?? '') };
    },

    remove: () => removeCgroup(path, h),
  };
  return self;
}

function rmdirTree(dir: string): 'ok' | 'busy' {
  // a cgroup directory lists dozens of control files: it is read only when the plain rmdir finds it busy, which
  // child cgroups (rare: the container made them) and processes still exiting both cause
  const attempt = tryRmdir(dir);
  if (attempt !== 'busy') return attempt;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'ok';
    throw e;
  }
  const children = entries.filter((e) => e.isDirectory());
  if (children.length === 0) return 'busy';
  let busy = false;
  for (const e of children) if (rmdirTree(join(dir, e.name)) === 'busy') busy = true;
  return busy ? 'busy' : tryRmdir(dir);
}

function tryRmdir(dir: string): 'ok' | 'busy' {
  try {
    rmdirSync(dir);
    return 'ok';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'ok';
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return 'busy';
    throw e;
  }
}

/**
 * Removes the cgroup (and any child cgroups) at `path` in every hierarchy. Missing directories are fine;
 * a busy one (processes still exiting) is retried for about `timeoutMs`, then reported.
 */
export async function removeCgroup(path: string, h: CgroupHost = cgroupHost(), timeoutMs = 2000): Promise<void> {
  if (!path.startsWith('/') || path === '/' || path.split('/').includes('..')) throw new Error(`invalid cgroup path: ${path}`);
  let pending = h.hierarchies.map((x) => sub(x.mountpoint, path));
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (true) {
    pending = pending.filter((d) => rmdirTree(d) === 'busy');
    if (pending.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`cgroup still busy: ${pending.join(', ')}`);
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}
