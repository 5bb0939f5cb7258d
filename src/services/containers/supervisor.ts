// Container lifecycle: start, stop, kill, pause, exit handling, restart policies, removal, and
// reconciliation after a daemon restart. conmon reports exits by writing <exitDir>/<id>.
import { posix } from 'node:path';
import { promises as fs, watch, type FSWatcher } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { NetworkState, ContainerRecord } from './types.js';
import type { ContainerStore, Orphan } from './store.js';
import type { ImageService } from '../images/types.js';
import type { EventBus } from '../events/bus.js';
import type { ConmonDriver } from '../runtime/driver.js';
import { mountRootfs, mountShareableShm, unmountRootfs, writeEtcFiles, rootfsPaths } from './rootfs.js';
import { resolveUser, type ResolvedUser } from './user.js';
import { sharedNamespaces, type SharedNamespaces } from './namespaces.js';
import { resolveLinks } from './links.js';
import { validateRestartPolicy } from './create.js';
import { logLimits, removeLogs, LogRotator, type LogLimits } from '../logs/rotate.js';
import { readersDone } from '../logs/readers.js';
import { ApiError, conflict, errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { PhaseTimer } from '../../util/phases.js';
import { connectSeqpacket } from '../../sys/seqpacket.js';
import type { Writable } from 'node:stream';
import { DEFAULT_SHM_SIZE, type OciMount } from '../runtime/spec.js';
import { isFullId } from '../../util/ids.js';

export interface SpecRequest {
  rec: ContainerRecord;
  rootfs: string;
  user: ResolvedUser;
  etcMounts: Array<{ source: string; destination: string }>;
  cgroupsPath: string;
  /** The network namespace prepared for it, when it joins a network. */
  netnsPath?: string;
  /** Volumes, bind mounts and tmpfs, ready to mount. */
  mounts?: OciMount[];
  /** --pid, --ipc and --uts modes that share another's namespace. */
  shared?: SharedNamespaces;
  /** docker's variables for its links on the default bridge. */
  linkEnv?: string[];
}

/** Volumes and bind mounts: ready before a start, let go after a stop, anonymous volumes removed with `rm -v`. */
export interface MountPreparer {
  prepare(rec: ContainerRecord, rootfs: string): Promise<OciMount[]>;
  release(rec: ContainerRecord): void;
  removeContainer(rec: ContainerRecord, removeAnonymous: boolean): Promise<void>;
}

/** Connects containers to their network before they start, and disconnects them when they stop. */
export interface NetworkAttacher {
  attach(rec: ContainerRecord): Promise<NetworkState | undefined>;
  detach(rec: ContainerRecord): Promise<void>;
}

export interface SupervisorDeps {
  store: ContainerStore;
  images: ImageService;
  events: EventBus;
  driver: ConmonDriver;
  writeSpec: (bundle: string, req: SpecRequest) => Promise<void>;
  cgroups: { remove(path: string): Promise<void>; pids(path: string): number[]; oomKills(path: string): number };
  logDefaults: LogLimits;
  /** The runtime's resource limits for a HostConfig (validates, like the spec builder). */
  resources: (hc: ContainerRecord['HostConfig']) => object;
  network: NetworkAttacher;
  mounts: MountPreparer;
}

/** HostConfig fields `docker update` may change. */
const UPDATABLE = ['BlkioWeight', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'Memory', 'MemoryReservation', 'MemorySwap', 'NanoCpus', 'PidsLimit', 'RestartPolicy'] as const;

/** A container's cgroup (cgroupfs driver): under --cgroup-parent (a path in each hierarchy, checked at create), else /tugboat. */
export const cgroupsPathOf = (rec: Pick<ContainerRecord, 'Id' | 'HostConfig'>) => posix.join('/', rec.HostConfig.CgroupParent || '/tugboat', rec.Id);
/** The OCI runtime a container runs with. */
const runtimeOf = (rec: ContainerRecord) => rec.HostConfig.Runtime ?? 'runc';
/** Whether processes outside the container share its pid namespace (the host's, or another container's). */
const sharesPidNamespace = (rec: ContainerRecord) => rec.HostConfig.PidMode === 'host' || !!rec.HostConfig.PidMode?.startsWith('container:');
/** The cgroup of a container whose record is gone (leftovers after a restart): the default place. */
const defaultCgroupOf = (id: string) => cgroupsPathOf({ Id: id, HostConfig: {} });

export function signalNumber(sig: string | number | undefined, dflt: number): number {
  if (sig === undefined || sig === '') return dflt;
  if (typeof sig === 'number' || /^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n <= 0 || n > 64) throw new ApiError(400, `Invalid signal: ${sig}`);
    return n;
  }
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (!n) throw new ApiError(400, `Invalid signal: ${sig}`);
  return n;
}

export class Supervisor {
  private watcher?: FSWatcher;
  private readonly rotator: LogRotator;
  private stdinHolders = new Map<string, Array<(sock: Writable | undefined) => void>>();
  private restartTimers = new Map<string, NodeJS.Timeout>();
  private exiting = new Set<string>();
  private starting = new Set<string>();
  private cleanups = new Map<string, Promise<void>>();
  /** Exited --rm containers whose host leftovers (releaseRun) their removal releases once it is answered. */
  private runsToRelease = new Set<string>();

  constructor(private readonly d: SupervisorDeps) {
    this.rotator = new LogRotator((id) => this.d.driver.reopenLog(this.d.store.dir(id)));
  }

  private watchLog(rec: ContainerRecord): void {
    this.rotator.watch(rec.Id, this.d.store.dir(rec.Id), rec.LogPath, logLimits(rec.HostConfig.LogConfig?.Config, this.d.logDefaults));
  }

  // ---- start ----

  async start(rec: ContainerRecord): Promise<void> {
    if (rec.State.Status === 'running' || rec.State.Status === 'paused' || this.starting.has(rec.Id)) return;
    this.starting.add(rec.Id);
    try {
      await this.startLocked(rec);
    } finally {
      this.starting.delete(rec.Id);
    }
    // the container may already have exited before it was marked running
    if (this.d.driver.exitCode(rec.Id) !== undefined) void this.handleExit(rec.Id);
  }

  private async startLocked(rec: ContainerRecord): Promise<void> {
    if (rec.State.Status === 'removing') throw conflict(`container is marked for removal and cannot be started`);
    const timer = this.restartTimers.get(rec.Id);
    if (timer) { clearTimeout(timer); this.restartTimers.delete(rec.Id); }
    await this.cleanups.get(rec.Id);
    const dir = this.d.store.dir(rec.Id);
    const image = this.d.images.resolve(rec.Image);
    if (!image) throw new ApiError(404, `No such image: ${rec.Config.Image}`);
    const phases = new PhaseTimer();
    const rootfs = await mountRootfs(dir, this.d.images.lowerDirs(image));
    try {
      // namespaces of others it joins: a target not running is refused before the network is set up
      const sharedNs = sharedNamespaces(rec, (ref) => this.d.store.find(ref), (id) => this.d.store.dir(id));
      const user = resolveUser(rootfs, rec.Config.User, rec.HostConfig.GroupAdd ?? []);
      phases.mark('rootfs');
      rec.NetworkSettings = await this.d.network.attach(rec);
      phases.mark('network');
      const shared = rec.NetworkSettings?.SharedWith;
      const links = resolveLinks(rec, (ref) => this.d.store.find(ref));
      const etcMounts = await writeEtcFiles(dir, rec, shared ? this.d.store.dir(shared) : undefined, links.hosts);
      const mounts = await this.d.mounts.prepare(rec, rootfs);
      if (sharedNs.shareableShm) sharedNs.shmSource = await mountShareableShm(dir, rec.HostConfig.ShmSize || DEFAULT_SHM_SIZE);
      await this.d.writeSpec(dir, { rec, rootfs, user, etcMounts, cgroupsPath: cgroupsPathOf(rec), netnsPath: rec.NetworkSettings?.SandboxKey, mounts, shared: sharedNs, linkEnv: links.env });
      phases.mark('bundle');
      const limits = logLimits(rec.HostConfig.LogConfig?.Config, this.d.logDefaults);
      await this.d.driver.clearExit(rec.Id);
      const { pid, conmonPid } = await this.d.driver.start({
        id: rec.Id, name: rec.Name, bundle: dir, runtime: runtimeOf(rec),
        // conmon's own cap only bounds a log while tugd is not there to rotate it; generous, since conmon replaces
        // the file when it hits it and a follower behind would lose what it had not read
        logPath: rec.LogPath, logSizeMax: limits.maxSize > 0 ? Math.max(limits.maxSize * 16, 256 << 20) : 0,
        // as docker: StdinOnce closes stdin when the first client leaves, but a terminal's input is never closed
        // (detaching with ctrl-p ctrl-q must leave the shell usable for the next attach)
        stdin: !!rec.Config.OpenStdin, leaveStdinOpen: !!rec.Config.OpenStdin && (!rec.Config.StdinOnce || !!rec.Config.Tty),
        tty: !!rec.Config.Tty,
        beforeStart: async () => this.connectStdin(rec),
      });
      rec.State = { ...rec.State, Status: 'running', Pid: pid, ConmonPid: conmonPid, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: new Date().toISOString(), FinishedAt: '0001-01-01T00:00:00Z' };
      rec.ManuallyStopped = false;
      phases.mark('runtime');
      // the answer need not wait for the disk: the record is current in memory, and a daemon that dies before the
      // write lands finds the container through the runtime (reconcile)
      this.d.store.save(rec).catch((e: Error) => log.warn('container record', { id: rec.Id, error: e.message }));
      log.debug('container start', { id: rec.Id.slice(0, 12), ms: phases.ms });
      this.watchLog(rec);
      this.d.events.publish('container', 'start', rec.Id, this.attrs(rec));
    } catch (e) {
      this.dropStdin(rec.Id);
      await this.undoStart(rec);
      rec.State = { ...rec.State, Status: rec.State.Status === 'created' ? 'created' : 'exited', Error: errorMessage(e), ExitCode: exitCodeForStartError(errorMessage(e)), Pid: 0 };
      await this.d.store.save(rec);
      // like docker: a --rm container that could not start is removed
      if (rec.HostConfig.AutoRemove) await this.remove(rec, { force: true, volumes: true }).catch(() => undefined);
      throw e instanceof ApiError ? e : new ApiError(500, errorMessage(e));
    }
  }

  /** What a start made, undone: runtime state, cgroup, network, volume holds, rootfs mount. */
  private async undoStart(rec: ContainerRecord): Promise<void> {
    // the runtime kills what is left first; the rest is independent
    await this.d.driver.delete(runtimeOf(rec), rec.Id).catch(() => undefined);
    this.d.mounts.release(rec);
    await Promise.all([unmountRootfs(this.d.store.dir(rec.Id)).catch(() => undefined), this.d.cgroups.remove(cgroupsPathOf(rec)).catch(() => undefined), this.d.network.detach(rec).catch(() => undefined)]);
    rec.NetworkSettings = undefined;
  }

  /** An attach with stdin registers here before start; conmon's attach socket is connected between create and start. */
  waitForStdin(id: string): Promise<Writable | undefined> {
    return new Promise((resolve) => {
      const list = this.stdinHolders.get(id) ?? [];
      list.push(resolve);
      this.stdinHolders.set(id, list);
    });
  }

  private async connectStdin(rec: ContainerRecord): Promise<void> {
    const waiters = this.stdinHolders.get(rec.Id);
    if (!waiters || waiters.length === 0) return;
    this.stdinHolders.delete(rec.Id);
    for (const w of waiters) {
      try { w(connectSeqpacket(this.d.driver.attachSocketPath(rec.Id))); } catch (e) { log.warn('attach socket', { id: rec.Id, error: errorMessage(e) }); w(undefined); }
    }
  }

  /** Connect to a running container's stdin now. */
  openStdin(rec: ContainerRecord): Writable {
    return connectSeqpacket(this.d.driver.attachSocketPath(rec.Id));
  }

  private dropStdin(id: string): void {
    for (const w of this.stdinHolders.get(id) ?? []) w(undefined);
    this.stdinHolders.delete(id);
  }

  // ---- signals ----

  private assertRunning(rec: ContainerRecord): void {
    if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') throw conflict(`Container ${rec.Id} is not running`);
  }

  async kill(rec: ContainerRecord, signal?: string): Promise<void> {
    const n = signalNumber(signal, osConstants.signals.SIGKILL);
    this.assertRunning(rec);
    const runtime = runtimeOf(rec);
    if (n === osConstants.signals.SIGKILL) rec.ManuallyStopped = true;
    // said before the signal goes: the exit it causes is seen at once, and docker's 'kill' comes before its 'die'
    this.d.events.publish('container', 'kill', rec.Id, { ...this.attrs(rec), signal: String(n) });
    await this.d.driver.kill(runtime, rec.Id, n).catch((e: Error) => {
      if (!/not running|container not running|process already finished/.test(e.message)) throw new ApiError(500, e.message);
    });
    // a paused container cannot act on signals: SIGKILL must thaw it
    if (rec.State.Status === 'paused' && n === osConstants.signals.SIGKILL) await this.d.driver.resume(runtime, rec.Id).catch(() => undefined);
  }

  /** Docker's stop: the stop signal, then SIGKILL after the timeout. */
  async stop(rec: ContainerRecord, timeoutSec?: number, signal?: string): Promise<boolean> {
    if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') {
      const t = this.restartTimers.get(rec.Id);
      if (t) { clearTimeout(t); this.restartTimers.delete(rec.Id); rec.ManuallyStopped = true; await this.d.store.save(rec); return true; }
      return false;
    }
    rec.ManuallyStopped = true;
    await this.d.store.save(rec);
    const timeout = timeoutSec ?? rec.Config.StopTimeout ?? 10;
    const exited = this.waitFor(rec.Id, 'die');
    // docker's 'stop' event follows the container's 'die' and the cleanup after it (its networks' 'disconnect')
    const stopped = async () => {
      await this.cleanups.get(rec.Id)?.catch(() => undefined);
      this.d.events.publish('container', 'stop', rec.Id, this.attrs(rec));
      return true;
    };
    const sig = signalNumber(signal ?? rec.Config.StopSignal, osConstants.signals.SIGTERM);
    if (timeout !== 0) {
      await this.kill(rec, String(sig)).catch(() => undefined);
      if (timeout < 0) { await exited; return stopped(); }
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeout * 1000))]);
      if (done) return stopped();
    }
    await this.kill(rec, 'SIGKILL').catch(() => undefined);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    return stopped();
  }

  async pause(rec: ContainerRecord): Promise<void> {
    if (rec.State.Status === 'paused') throw conflict(`Container ${rec.Id} is already paused`);
    this.assertRunning(rec);
    await this.d.driver.pause(runtimeOf(rec), rec.Id);
    rec.State.Status = 'paused';
    await this.d.store.save(rec);
    this.d.events.publish('container', 'pause', rec.Id, this.attrs(rec));
  }

  async unpause(rec: ContainerRecord): Promise<void> {
    if (rec.State.Status !== 'paused') throw conflict(`Container ${rec.Id} is not paused`);
    await this.d.driver.resume(runtimeOf(rec), rec.Id);
    rec.State.Status = 'running';
    await this.d.store.save(rec);
    this.d.events.publish('container', 'unpause', rec.Id, this.attrs(rec));
  }

  /** `docker update`: new limits (applied live when running) and restart policy. */
  async update(rec: ContainerRecord, patch: Partial<ContainerRecord['HostConfig']>): Promise<void> {
    const merged = { ...rec.HostConfig };
    // clients send every field; as in docker, zero and empty mean "leave as it is"
    const given = (v: unknown) => v !== undefined && v !== null && v !== 0 && v !== '' && !(typeof v === 'object' && !(v as { Name?: string }).Name);
    for (const k of UPDATABLE) if (given(patch[k])) (merged as Record<string, unknown>)[k] = patch[k];
    // a new --cpus replaces an older quota/period and the other way round, as docker does
    if (given(patch.NanoCpus)) { merged.CpuQuota = 0; merged.CpuPeriod = 0; }
    if (given(patch.CpuQuota) || given(patch.CpuPeriod)) merged.NanoCpus = 0;
    validateRestartPolicy(merged);
    const limits = this.d.resources(merged);
    if (rec.State.Status === 'running' || rec.State.Status === 'paused') await this.d.driver.update(runtimeOf(rec), rec.Id, limits);
    rec.HostConfig = merged;
    await this.d.store.save(rec, true);
    this.d.events.publish('container', 'update', rec.Id, this.attrs(rec));
  }

  async restart(rec: ContainerRecord, timeoutSec?: number, signal?: string): Promise<void> {
    await this.stop(rec, timeoutSec, signal);
    await this.start(rec);
    rec.ManuallyStopped = false;
    this.d.events.publish('container', 'restart', rec.Id, this.attrs(rec));
  }

  // ---- exits ----

  /** Resolves when the container next emits `action` (die, destroy…). */
  waitFor(id: string, action: string): Promise<void> {
    return new Promise((resolve) => {
      const off = this.d.events.subscribe((e) => {
        if (e.Type === 'container' && e.Actor.ID === id && e.Action === action) { off(); resolve(); }
      });
    });
  }

  async handleExit(id: string): Promise<void> {
    const rec = this.d.store.find(id);
    const code = this.d.driver.exitCode(id);
    // a container removed while it ran (leftovers a restarted daemon cleared): nothing but the exit file to forget.
    // Only a final name: conmon writes the file under a temporary one first, which must be left alone
    if (!rec && code !== undefined && isFullId(id)) { await this.d.driver.clearExit(id); return; }
    if (!rec || code === undefined || this.exiting.has(id)) return;
    // a start in progress looks at the exit file itself once the container is marked running
    if (this.starting.has(id)) return;
    if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') { await this.d.driver.clearExit(id); return; }
    this.exiting.add(id);
    const dir = this.d.store.dir(id);
    // conmon's oom file, or the kernel's count in the cgroup (read before the cgroup goes)
    const oom = this.d.driver.oomKilled(dir) || (code === 137 && this.d.cgroups.oomKills(cgroupsPathOf(rec)) > 0);
    this.rotator.unwatch(id);
    const startedAt = Date.parse(rec.State.StartedAt);
    rec.State = { ...rec.State, Status: 'exited', ExitCode: code, OOMKilled: oom, Pid: 0, ConmonPid: undefined, FinishedAt: new Date().toISOString() };
    // said before the cleanup begins, so that 'die' comes before the networks' 'disconnect', as docker has it
    if (oom) this.d.events.publish('container', 'oom', id, this.attrs(rec));
    this.d.events.publish('container', 'die', id, { ...this.attrs(rec), exitCode: String(code) });
    // a --rm container's leftovers go after its removal has been answered: the removal hands them to the store
    const autoRemove = !!rec.HostConfig.AutoRemove;
    if (autoRemove) this.runsToRelease.add(id);
    // start and remove wait for this
    const cleanup = (async () => {
      // with the host's pid namespace other processes may outlive pid 1: let the runtime kill them first
      if (sharesPidNamespace(rec)) await this.d.driver.delete(runtimeOf(rec), id).catch((e: Error) => log.warn('runtime delete', { id, error: e.message }));
      this.d.mounts.release(rec);
      // independent of each other: at once
      await Promise.all([
        this.d.network.detach(rec).catch((e: Error) => log.warn('network detach', { id, error: e.message })),
        autoRemove ? undefined : this.releaseRun(rec, dir),
      ]);
    })();
    rec.NetworkSettings = undefined;
    this.cleanups.set(id, cleanup);
    try {
      // a --rm container's record goes in a moment (and a restarted daemon removes it if it had no time to)
      if (!autoRemove) await this.d.store.save(rec);
      await cleanup;
      if (autoRemove) { await this.remove(rec, { force: true, volumes: true }); return; }
      this.applyRestartPolicy(rec, Date.now() - startedAt);
    } finally {
      this.cleanups.delete(id);
      this.exiting.delete(id);
    }
  }

  /**
   * What an exited run leaves on the host: runtime state, cgroup, exit file, and the rootfs mounted in `at` (the
   * container's directory, or where its removal moved it).
   */
  private async releaseRun(rec: ContainerRecord, at: string): Promise<void> {
    const id = rec.Id;
    await Promise.all([
      unmountRootfs(at).catch((e: unknown) => log.warn('unmount', { id, error: errorMessage(e) })),
      sharesPidNamespace(rec) ? undefined : this.d.driver.forget(runtimeOf(rec), id),
      this.d.cgroups.remove(cgroupsPathOf(rec)).catch((e: Error) => log.warn('cgroup removal', { id, error: e.message })),
      this.d.driver.clearExit(id),
    ]);
  }

  private applyRestartPolicy(rec: ContainerRecord, ranMs: number): void {
    const p = rec.HostConfig.RestartPolicy;
    if (!p || rec.ManuallyStopped) return;
    const failed = rec.State.ExitCode !== 0;
    const should = p.Name === 'always' || p.Name === 'unless-stopped' ||
      (p.Name === 'on-failure' && failed && (!p.MaximumRetryCount || rec.RestartCount < p.MaximumRetryCount));
    if (!should) return;
    // docker's back-off: 100ms doubling, reset when the container ran for 10s
    const attempt = ranMs > 10000 ? 0 : Math.min(rec.RestartCount, 10);
    const delay = Math.min(100 * 2 ** attempt, 60000);
    const t = setTimeout(() => {
      this.restartTimers.delete(rec.Id);
      if (!this.d.store.find(rec.Id) || rec.ManuallyStopped) return;
      rec.RestartCount++;
      this.start(rec).catch((e) => log.warn('restart failed', { id: rec.Id, error: errorMessage(e) }));
    }, delay);
    this.restartTimers.set(rec.Id, t);
  }

  // ---- removal ----

  async remove(rec: ContainerRecord, o: { force: boolean; volumes: boolean }): Promise<void> {
    if (rec.State.Status === 'running' || rec.State.Status === 'paused') {
      if (!o.force) {
        throw conflict(`cannot remove container "/${rec.Name}": container is running: stop the container before removing or force remove`);
      }
      rec.ManuallyStopped = true;
      const died = this.waitFor(rec.Id, 'die');
      await this.kill(rec, 'SIGKILL').catch(() => undefined);
      await Promise.race([died, new Promise((r) => setTimeout(r, 10000))]);
    }
    if (rec.State.Status === 'removing') return;
    await this.cleanups.get(rec.Id);
    const t = this.restartTimers.get(rec.Id);
    if (t) { clearTimeout(t); this.restartTimers.delete(rec.Id); }
    rec.State.Status = 'removing';
    // an exited --rm container's leftovers go behind the answer (see handleExit); otherwise whatever a start left
    // (nothing, after an exit's cleanup; all of it, for a half-removed one after a restart)
    const deferred = this.runsToRelease.delete(rec.Id);
    if (!deferred) await this.undoStart(rec);
    await this.d.mounts.removeContainer(rec, o.volumes).catch((e: Error) => log.warn('volume removal', { id: rec.Id, error: e.message }));
    // attached clients read the last lines first (a --rm container's output must not go with it)
    await readersDone(rec.LogPath, 2000);
    // a log in the container's directory (where tugd keeps them) goes with it; one kept elsewhere file by file
    const logs = posix.dirname(rec.LogPath) === this.d.store.dir(rec.Id) ? undefined : removeLogs(rec.LogPath);
    await Promise.all([logs, this.d.store.remove(rec, deferred ? (at) => this.releaseRun(rec, at) : undefined)]);
    this.d.events.publish('container', 'destroy', rec.Id, this.attrs(rec));
  }

  // ---- daemon start and background work ----

  async watchExits(): Promise<void> {
    await fs.mkdir(this.d.driver.exitDir, { recursive: true });
    this.watcher = watch(this.d.driver.exitDir, (_ev, name) => { if (name && !String(name).startsWith('.')) void this.handleExit(String(name)); });
  }

  /**
   * Records that still say created although the runtime has the container: the daemon stopped before the start's
   * write landed. Called first at daemon start, so that the network's reconciliation keeps their endpoints.
   */
  adoptUnrecordedStarts(): void {
    for (const rec of this.d.store.all()) {
      if (rec.State.Status === 'created' && this.d.driver.hasState(runtimeOf(rec), rec.Id)) rec.State.Status = 'running';
    }
  }

  /** After a daemon restart: learn what happened to every container while we were away. */
  async reconcile(orphans: Orphan[]): Promise<void> {
    for (const { id, dir } of orphans) {
      await unmountRootfs(dir).catch(() => undefined);
      for (const r of this.d.driver.runtimeNames()) await this.d.driver.delete(r, id).catch(() => undefined);
      await this.d.cgroups.remove(defaultCgroupOf(id)).catch(() => undefined);
      await this.d.driver.clearExit(id);
      await fs.rm(dir, { recursive: true, force: true });
      log.info('removed leftovers of a removed container', { id });
    }
    for (const rec of this.d.store.all()) {
      if (rec.State.Status === 'removing') { await this.remove(rec, { force: true, volumes: false }); continue; }
      if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') continue;
      if (this.d.driver.exitCode(rec.Id) !== undefined) { await this.handleExit(rec.Id); continue; }
      const runtime = runtimeOf(rec);
      const st = await this.d.driver.state(runtime, rec.Id);
      if (st && (st.status === 'running' || st.status === 'paused')) {
        rec.State = { ...rec.State, Status: st.status, Pid: st.pid };
        this.watchLog(rec);
        continue;
      }
      if (st?.status === 'created') {
        // the daemon stopped between the runtime's create and start: undone as a failed start is
        await this.undoStart(rec);
        rec.State = { ...rec.State, Status: 'created', Pid: 0 };
        await this.d.store.save(rec);
        continue;
      }
      // neither running nor an exit recorded: conmon died with it
      rec.State = { ...rec.State, Status: 'exited', ExitCode: 255, Pid: 0, FinishedAt: new Date().toISOString(), Error: 'container supervisor disappeared' };
      await this.d.store.save(rec);
      this.d.events.publish('container', 'die', rec.Id, { ...this.attrs(rec), exitCode: '255' });
    }
    // restart policies after a daemon (re)start, as docker documents them: `always` comes back
    // even when it was stopped by hand, `unless-stopped` only when it was not
    for (const rec of this.d.store.all()) {
      if (rec.State.Status !== 'exited') continue;
      // --rm containers that ended while the daemon was away, or before it could remove them (as dockerd does)
      if (rec.HostConfig.AutoRemove) { await this.remove(rec, { force: true, volumes: true }).catch((e) => log.warn('removal on daemon start failed', { id: rec.Id, error: errorMessage(e) })); continue; }
      const p = rec.HostConfig.RestartPolicy?.Name;
      if (p === 'always' || (p === 'unless-stopped' && !rec.ManuallyStopped)) {
        rec.ManuallyStopped = false;
        this.start(rec).catch((e) => log.warn('restart on daemon start failed', { id: rec.Id, error: errorMessage(e) }));
      }
    }
  }

  async shutdown(): Promise<void> {
    this.watcher?.close();
    this.rotator.close();
    for (const t of this.restartTimers.values()) clearTimeout(t);
  }

  pids(rec: ContainerRecord): number[] {
    return this.d.cgroups.pids(cgroupsPathOf(rec));
  }

  resize(rec: ContainerRecord, height: number, width: number): void {
    this.d.driver.resize(this.d.store.dir(rec.Id), height, width);
  }

  upperDir(rec: ContainerRecord): string { return rootfsPaths(this.d.store.dir(rec.Id)).upper; }

  /** `fn` with the rootfs mounted (docker cp). A container that is not running is mounted for `fn` alone: start and
   *  removal wait for it as they wait for an exit's cleanup, and it waits for a start or a cleanup under way. */
  async withRootfs<T>(rec: ContainerRecord, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const dir = this.d.store.dir(rec.Id);
    // a start leaves no promise to wait on: poll it (starts take well under a second)
    while (this.starting.has(rec.Id) || this.cleanups.has(rec.Id)) await (this.cleanups.get(rec.Id)?.catch(() => undefined) ?? new Promise((r) => setTimeout(r, 20)));
    if (rec.State.Status === 'running' || rec.State.Status === 'paused') return fn(rootfsPaths(dir).rootfs);
    const image = this.d.images.resolve(rec.Image);
    if (!image) throw new ApiError(404, `No such image: ${rec.Config.Image}`);
    const work = (async () => {
      const rootfs = await mountRootfs(dir, this.d.images.lowerDirs(image));
      try { return await fn(rootfs); } finally { await unmountRootfs(dir); }
    })();
    const done = work.then(() => undefined, () => undefined);
    this.cleanups.set(rec.Id, done);
    try { return await work; } finally { if (this.cleanups.get(rec.Id) === done) this.cleanups.delete(rec.Id); }
  }

  attrs(rec: ContainerRecord): Record<string, string> {
    return { ...(rec.Config.Labels ?? {}), image: rec.Config.Image ?? '', name: rec.Name };
  }

}

/** Docker's CLI maps start errors to 126 (cannot invoke) and 127 (not found); the state records the same. */
export function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied/.test(msg)) return 126;
  return 128;
}
