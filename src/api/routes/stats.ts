// GET /containers/{id}/stats: cgroup figures in docker's shape, so `docker stats` computes the same
// CPU %, memory, NET I/O and PIDs columns (CPU % = container delta / host delta × online CPUs).
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Router, qbool, sendJson } from '../router.js';
import type { ContainerStore } from '../../services/containers/store.js';
import type { ContainerRecord } from '../../services/containers/types.js';
import type { ContainerCgroup } from '../../sys/cgroups.js';
import { parseNetDev, type InterfaceStats } from '../../sys/netdev.js';

export interface StatsRouteDeps {
  store: ContainerStore;
  cgroupOf: (rec: ContainerRecord) => ContainerCgroup;
}

const NS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

/** Host CPU time in nanoseconds, from the first line of /proc/stat. */
function systemCpuNs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return fields.reduce((a, b) => a + b, 0) * NS_PER_TICK;
}

interface CpuSample { cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number }; system_cpu_usage: number; online_cpus: number; throttling_data: { periods: number; throttled_periods: number; throttled_time: number } }

function cpuSample(cg: ContainerCgroup | undefined): CpuSample {
  const c = cg?.cpu();
  return {
    cpu_usage: { total_usage: c?.usageNs ?? 0, ...(c?.perCpuNs ? { percpu_usage: c.perCpuNs } : {}), usage_in_kernelmode: c?.systemNs ?? 0, usage_in_usermode: c?.userNs ?? 0 },
    system_cpu_usage: systemCpuNs(),
    online_cpus: cpus().length,
    throttling_data: { periods: c?.throttling?.periods ?? 0, throttled_periods: c?.throttling?.throttledPeriods ?? 0, throttled_time: c?.throttling?.throttledNs ?? 0 },
  };
}

/** The interfaces of the container's own network namespace (none on the host's network, or once it has ended). */
function networkStats(rec: ContainerRecord): Record<string, InterfaceStats> | undefined {
  if (rec.HostConfig.NetworkMode === 'host' || !rec.State.Pid) return undefined;
  try {
    const n = parseNetDev(readFileSync(`/proc/${rec.State.Pid}/net/dev`, 'utf8'));
    return Object.keys(n).length ? n : undefined;
  } catch {
    return undefined; // the process just ended
  }
}

function sample(rec: ContainerRecord, cg: ContainerCgroup | undefined, pre: { cpu: CpuSample; read: string } | undefined) {
  const running = rec.State.Status === 'running' || rec.State.Status === 'paused';
  const mem = running ? cg?.memory() : undefined;
  const pids = running ? cg?.pidsCount() : undefined;
  const blk = running ? cg?.blkio() : undefined;
  const cpu = running ? cpuSample(cg) : { ...cpuSample(undefined), system_cpu_usage: 0, online_cpus: 0 };
  const networks = running ? networkStats(rec) : undefined;
  return {
    read: new Date().toISOString(),
    preread: pre?.read ?? '0001-01-01T00:00:00Z',
    pids_stats: running ? { current: pids?.current ?? 0, ...(pids?.limit ? { limit: pids.limit } : {}) } : {},
    blkio_stats: { io_service_bytes_recursive: blk?.bytes ?? null, io_serviced_recursive: blk?.ios ?? null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: pre?.cpu ?? { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: mem ? { usage: mem.usage, ...(mem.maxUsage !== undefined ? { max_usage: mem.maxUsage } : {}), stats: mem.stat, limit: mem.limit ?? totalmem() } : {},
    name: `/${rec.Name}`,
    id: rec.Id,
    ...(networks ? { networks } : {}),
  };
}

type Previous = { cpu: CpuSample; read: string; at: number };

/**
 * The last CPU reading per container, so a single answer (stream=false) has a previous reading to compute
 * CPU % from without waiting (at most until it is MIN_GAP_MS old); when there is none recent enough, one is taken
 * and the answer waits briefly.
 */
class PreviousReadings {
  private last = new Map<string, Previous>();

  async before(id: string, cg: ContainerCgroup): Promise<Previous> {
    const p = this.last.get(id);
    const age = p ? Date.now() - p.at : Infinity;
    // one taken a moment ago (a client asking again at once) is used after the short gap a CPU % needs
    if (p && age <= MAX_AGE_MS) {
      if (age < MIN_GAP_MS) await new Promise((res) => setTimeout(res, MIN_GAP_MS - age));
      return p;
    }
    const fresh = { cpu: cpuSample(cg), read: new Date().toISOString(), at: Date.now() };
    await new Promise((res) => setTimeout(res, ONE_SHOT_GAP_MS));
    return fresh;
  }

  remember(id: string, s: { cpu_stats: CpuSample; read: string }): void {
    this.last.set(id, { cpu: s.cpu_stats, read: s.read, at: Date.now() });
    if (this.last.size > 4096) this.last.delete(this.last.keys().next().value as string);
  }
}

const MIN_GAP_MS = 100;
const MAX_AGE_MS = 10_000;
const ONE_SHOT_GAP_MS = 500;

export function registerStatsRoutes(r: Router, d: StatsRouteDeps): void {
  const previous = new PreviousReadings();
  r.get(/^\/containers\/(?<id>[^/]+)\/stats$/, async (ctx) => {
    const rec = d.store.get(ctx.params.id);
    const cg = d.cgroupOf(rec);
    const stream = qbool(ctx.query, 'stream', true);
    const oneShot = qbool(ctx.query, 'one-shot');
    if (!stream) {
      // without one-shot, docker fills precpu from an earlier read so that a single answer has a CPU %
      const pre = oneShot || !(rec.State.Status === 'running' || rec.State.Status === 'paused') ? undefined : await previous.before(rec.Id, cg);
      const s = sample(d.store.find(rec.Id) ?? rec, cg, pre);
      if (pre) previous.remember(rec.Id, s);
      sendJson(ctx.res, 200, s);
      return;
    }
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    let pre: { cpu: CpuSample; read: string } | undefined;
    const tick = () => {
      const s = sample(d.store.find(rec.Id) ?? rec, cg, pre);
      pre = { cpu: s.cpu_stats, read: s.read };
      previous.remember(rec.Id, s);
      ctx.res.write(JSON.stringify(s) + '\n');
    };
    tick();
    const timer = setInterval(tick, 1000);
    ctx.res.on('close', () => clearInterval(timer));
    await new Promise((res) => ctx.res.on('close', res));
  });
}
