// Health checks: docker's HEALTHCHECK semantics. Each running container with a check is probed by an exec
// every interval (start interval during the start period); State.Health keeps status, failing streak and the
// last 5 results, and each status change is a `health_status: …` event.
import type { ContainerRecord, HealthResult, HealthState } from './types.js';
import type { ContainerStore } from './store.js';
import type { EventBus } from '../events/bus.js';
import { log } from '../../util/log.js';
import { errorMessage } from '../../util/errors.js';

const SECOND_NS = 1e9;
export const HEALTH_DEFAULTS = { interval: 30 * SECOND_NS, timeout: 30 * SECOND_NS, startPeriod: 0, startInterval: 5 * SECOND_NS, retries: 3 };
const KEEP_RESULTS = 5;

export interface ProbeRunner {
  runCaptured(rec: ContainerRecord, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
}

interface EffectiveCheck { cmd: string[]; intervalMs: number; timeoutMs: number; startPeriodMs: number; startIntervalMs: number; retries: number }

/** The check a container runs, or undefined when it has none (no HEALTHCHECK, or NONE). */
export function effectiveCheck(rec: ContainerRecord): EffectiveCheck | undefined {
  const h = rec.Config.Healthcheck;
  const test = h?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  let cmd: string[];
  if (test[0] === 'CMD') cmd = test.slice(1);
  else if (test[0] === 'CMD-SHELL') cmd = [...(rec.Config.Shell?.length ? rec.Config.Shell : ['/bin/sh', '-c']), test.slice(1).join(' ')];
  else return undefined;
  if (cmd.length === 0) return undefined;
  const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? ns : dflt) / 1e6;
  return {
    cmd,
    intervalMs: ms(h?.Interval, HEALTH_DEFAULTS.interval),
    timeoutMs: ms(h?.Timeout, HEALTH_DEFAULTS.timeout),
    startPeriodMs: ms(h?.StartPeriod, HEALTH_DEFAULTS.startPeriod),
    startIntervalMs: ms(h?.StartInterval, HEALTH_DEFAULTS.startInterval),
    retries: h?.Retries && h.Retries > 0 ? h.Retries : HEALTH_DEFAULTS.retries,
  };
}

/** Fold one probe result into the health state (docker's rules); returns whether the status changed. */
export function applyResult(state: HealthState, result: HealthResult, retries: number, inStartPeriod: boolean): boolean {
  const before = state.Status;
  state.Log = [...state.Log, result].slice(-KEEP_RESULTS);
  if (result.ExitCode === 0) {
    state.FailingStreak = 0;
    state.Status = 'healthy';
  } else if (!(inStartPeriod && state.Status === 'starting')) {
    // failures during the start period do not count, until the first success ends it
    state.FailingStreak++;
    if (state.FailingStreak >= retries) state.Status = 'unhealthy';
  }
  return state.Status !== before;
}

export class HealthMonitor {
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly d: { store: ContainerStore; probes: ProbeRunner; events: EventBus }) {}

  /** Follow container starts and exits on the event bus. */
  attach(): void {
    this.d.events.subscribe((e) => {
      if (e.Type !== 'container') return;
      if (e.Action === 'start') { const rec = this.d.store.find(e.Actor.ID); if (rec) this.begin(rec, true); }
      else if (e.Action === 'die' || e.Action === 'destroy') this.end(e.Actor.ID, e.Action === 'die');
    });
  }

  /** Start probing (fresh state on a container start; kept state when a restarted daemon re-adopts it). */
  begin(rec: ContainerRecord, fresh: boolean): void {
    const check = effectiveCheck(rec);
    this.stopTimer(rec.Id);
    if (!check) { if (fresh) delete rec.State.Health; return; }
    if (fresh || !rec.State.Health) rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    this.schedule(rec.Id, this.nextDelay(rec, check));
  }

  stopAll(): void { for (const id of [...this.timers.keys()]) this.stopTimer(id); }

  private end(id: string, markUnhealthy: boolean): void {
    this.stopTimer(id);
    const rec = this.d.store.find(id);
    // like docker: a stopped container is no longer healthy
    if (markUnhealthy && rec?.State.Health) rec.State.Health.Status = 'unhealthy';
  }

  private stopTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private inStartPeriod(rec: ContainerRecord, check: EffectiveCheck): boolean {
    return Date.now() - Date.parse(rec.State.StartedAt) < check.startPeriodMs;
  }

  private nextDelay(rec: ContainerRecord, check: EffectiveCheck): number {
    return this.inStartPeriod(rec, check) && rec.State.Health?.Status === 'starting' ? check.startIntervalMs : check.intervalMs;
  }

  private schedule(id: string, delayMs: number): void {
    const t = setTimeout(() => { void this.probe(id); }, delayMs);
    t.unref();
    this.timers.set(id, t);
  }

  private async probe(id: string): Promise<void> {
    this.timers.delete(id);
    const rec = this.d.store.find(id);
    const check = rec && effectiveCheck(rec);
    if (!rec || !check || !rec.State.Health || rec.State.Status === 'exited' || rec.State.Status === 'dead') return;
    if (rec.State.Status !== 'running') { this.schedule(id, check.intervalMs); return; } // paused: try later
    const startedAt = rec.State.StartedAt;
    const start = new Date().toISOString();
    let result: HealthResult;
    try {
      const r = await this.d.probes.runCaptured(rec, check.cmd, check.timeoutMs);
      result = r.timedOut
        ? { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: `Health check exceeded timeout (${check.timeoutMs / 1000}s)` }
        : { Start: start, End: new Date().toISOString(), ExitCode: r.exitCode, Output: r.output };
    } catch (e) {
      result = { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: errorMessage(e) };
    }
    // the container may have stopped or restarted while the probe ran: its result no longer applies
    if (rec.State.Status !== 'running' || rec.State.StartedAt !== startedAt || !rec.State.Health) return;
    const changed = applyResult(rec.State.Health, result, check.retries, this.inStartPeriod(rec, check));
    await this.d.store.save(rec).catch((e: unknown) => log.warn('health: saving state', { id, error: errorMessage(e) }));
    if (changed) this.d.events.publish('container', `health_status: ${rec.State.Health.Status}`, id, { name: rec.Name, image: rec.Config.Image ?? '' });
    if (!this.timers.has(id)) this.schedule(id, this.nextDelay(rec, check));
  }
}
