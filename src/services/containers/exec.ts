// `docker exec`: extra processes in a running container, each run by the runtime under its own conmon,
// which joins them to the container's namespaces and cgroup, holds their stdio and reports the exit.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Transform } from 'node:stream';
import type { ContainerRecord } from './types.js';
import type { ContainerStore } from './store.js';
import type { ConmonDriver } from '../runtime/driver.js';
import type { EventBus } from '../events/bus.js';
import { resolveUser } from './user.js';
import { dropUnset, overrideEnv } from './environment.js';
import { rootfsPaths } from './rootfs.js';
import { resolveCapabilities } from '../runtime/spec.js';
import { openSeqpacket, packetWriter } from '../../sys/seqpacket.js';
import { ApiError, conflict, notFound, errorMessage } from '../../util/errors.js';
import { newId } from '../../util/ids.js';
import { readExisting } from '../logs/k8sfile.js';
import { PhaseTimer } from '../../util/phases.js';
import { log } from '../../util/log.js';

const OUTPUT_GRACE_MS = 2000;

export interface ExecCreateBody {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  Cmd?: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

export interface ExecInstance {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  CanRemove: boolean;
  DetachKeys: string;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  env: string[];
  workingDir: string;
  started: boolean;
}

/**
 * An attached exec's streams: output is read from the log conmon writes (complete before conmon
 * reports the exit, whatever the timing of our connection), input goes through the attach socket.
 */
export interface ExecStreams {
  logPath: string;
  input: Transform | undefined;
  /** conmon's attach socket: only for a process that reads stdin. */
  socket: Socket | undefined;
}

interface OciProcess { args: string[]; env?: string[]; cwd: string; user: { uid: number; gid: number; additionalGids?: number[] }; terminal?: boolean; capabilities?: Record<string, string[]>; consoleSize?: { height: number; width: number } }

export class ExecManager {
  private execs = new Map<string, ExecInstance>();

  constructor(private readonly d: { store: ContainerStore; driver: ConmonDriver; events: EventBus }) {}

  create(rec: ContainerRecord, body: ExecCreateBody): ExecInstance {
    if (rec.State.Status === 'paused') throw conflict(`Container ${rec.Id} is paused, unpause the container before exec`);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
    if (!Array.isArray(body.Cmd) || body.Cmd.length === 0) throw new ApiError(400, 'No exec command specified');
    const e: ExecInstance = {
      ID: newId(), ContainerID: rec.Id, Running: false, ExitCode: null, Pid: 0,
      OpenStdin: !!body.AttachStdin, OpenStdout: body.AttachStdout !== false, OpenStderr: body.AttachStderr !== false,
      CanRemove: false, DetachKeys: body.DetachKeys ?? '',
      ProcessConfig: { tty: !!body.Tty, entrypoint: body.Cmd[0], arguments: body.Cmd.slice(1), privileged: !!body.Privileged, user: body.User ?? '' },
      env: body.Env ?? [], workingDir: body.WorkingDir ?? '', started: false,
    };
    this.execs.set(e.ID, e);
    this.d.events.publish('container', `exec_create: ${body.Cmd.join(' ')}`, rec.Id, { name: rec.Name, execID: e.ID });
    return e;
  }

  get(id: string): ExecInstance {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  /** Exec instances of removed containers go with them. */
  forget(containerId: string): void {
    for (const [id, e] of this.execs) if (e.ContainerID === containerId) this.execs.delete(id);
  }

  /**
   * Start the process. With `attach`, resolves once output can be read (the process is held until
   * then, so nothing is lost); `done` resolves with the exit code.
   */
  async start(e: ExecInstance, attach: boolean): Promise<{ streams?: ExecStreams; done: Promise<number> }> {
    if (e.started) throw conflict(`Error: Exec command ${e.ID} has already run`);
    const rec = this.d.store.get(e.ContainerID);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
    e.started = true;
    const phases = new PhaseTimer();
    const bundle = this.d.store.dir(rec.Id);
    const dir = join(bundle, 'exec', e.ID.slice(0, 12));
    await fs.mkdir(join(dir, 'exits'), { recursive: true });
    const specPath = join(dir, 'process.json');
    await fs.writeFile(specPath, JSON.stringify(await this.processSpec(rec, bundle, e)));
    phases.mark('spec');
    // the output is read from the log, complete whenever we start reading it: conmon need only wait for our
    // connection to its attach socket when there is input to send
    const withInput = attach && e.OpenStdin;
    const session = this.d.driver.startExec({
      containerId: rec.Id, execId: e.ID, name: rec.Name, runtime: rec.HostConfig.Runtime ?? 'runc', dir,
      processSpecPath: specPath, tty: e.ProcessConfig.tty, stdin: e.OpenStdin, attach: withInput,
    });
    let streams: ExecStreams | undefined;
    try {
      if (withInput) {
        await session.attachReady;
        phases.mark('conmon');
        const socket = openSeqpacket(this.d.driver.attachSocketPath(e.ID));
        socket.on('data', () => undefined); // conmon's copy of the output; the log is our source
        streams = { socket, logPath: join(dir, 'exec.log'), input: packetWriter(socket) };
        session.release();
      } else if (attach) {
        streams = { socket: undefined, logPath: join(dir, 'exec.log'), input: undefined };
      }
      e.Pid = await session.pid;
      phases.mark('runtime');
      log.debug('exec start', { id: e.ID.slice(0, 12), ms: phases.ms });
    } catch (err) {
      streams?.socket?.destroy();
      e.ExitCode = 126; // docker's code for a process that could not be started
      await fs.rm(dir, { recursive: true, force: true });
      throw err instanceof ApiError ? err : new ApiError(500, errorMessage(err));
    } finally {
      if (e.ExitCode !== null) this.d.events.publish('container', 'exec_die', rec.Id, { name: rec.Name, execID: e.ID, exitCode: String(e.ExitCode) });
    }
    e.Running = true;
    this.d.events.publish('container', `exec_start: ${[e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments].join(' ')}`, rec.Id, { name: rec.Name, execID: e.ID });
    const done = session.exit.then(async (code) => {
      // the last output may reach the log just after the exit code: wait for conmon to go (a process left behind
      // holding the output open keeps it, so not for long)
      await Promise.race([session.ended, new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS))]);
      e.Running = false;
      e.ExitCode = code;
      e.Pid = 0;
      this.d.events.publish('container', 'exec_die', rec.Id, { name: rec.Name, execID: e.ID, exitCode: String(code) });
      // an attached caller still reads the log: it calls cleanup() when done
      if (!attach) await this.cleanup(e);
      return code;
    });
    return { streams, done };
  }

  /**
   * Run a command to completion and return its exit code and (combined, truncated) output; past `timeoutMs` the
   * process is killed and `timedOut` is set. Used by health checks; the instance is forgotten afterwards.
   */
  async runCaptured(rec: ContainerRecord, cmd: string[], timeoutMs: number, maxOutput = 4096): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const e = this.create(rec, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    try {
      const { streams, done } = await this.start(e, true);
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; if (e.Pid) try { process.kill(e.Pid, 'SIGKILL'); } catch { /* already gone */ } }, timeoutMs);
      const exitCode = await done.finally(() => clearTimeout(timer));
      streams?.socket?.destroy();
      let output = '';
      if (streams) {
        const { entries } = await readExisting(streams.logPath, { stdout: true, stderr: true, since: 0, until: 0, tail: -1 });
        output = Buffer.concat(entries.map((x) => x.data)).subarray(0, maxOutput).toString();
      }
      return { exitCode, output, timedOut };
    } finally {
      await this.cleanup(e);
      this.execs.delete(e.ID);
    }
  }

  /** Remove an exec's files once nobody reads them any more. */
  async cleanup(e: ExecInstance): Promise<void> {
    await fs.rm(join(this.d.store.dir(e.ContainerID), 'exec', e.ID.slice(0, 12)), { recursive: true, force: true }).catch(() => undefined);
    await fs.rm(join(this.d.driver.socketDir, e.ID), { force: true }).catch(() => undefined);
  }

  resize(e: ExecInstance, height: number, width: number): void {
    if (!e.Running) throw conflict(`Exec ${e.ID} is not running`);
    this.d.driver.resize(join(this.d.store.dir(e.ContainerID), 'exec', e.ID.slice(0, 12)), height, width);
  }

  /** The container's own process settings, with the exec's command, env, user, cwd and tty. */
  private async processSpec(rec: ContainerRecord, bundle: string, e: ExecInstance): Promise<OciProcess> {
    const spec = JSON.parse(await fs.readFile(join(bundle, 'config.json'), 'utf8')) as { process: OciProcess };
    const p: OciProcess = { ...spec.process };
    p.args = [e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments];
    // the container's environment, with TERM as the exec's own terminal has it (unless the container sets it)
    const ownTerm = rec.Config.Env?.some((kv) => kv.startsWith('TERM='));
    const base = (p.env ?? []).filter((kv) => ownTerm || !kv.startsWith('TERM='));
    p.env = dropUnset(overrideEnv(e.ProcessConfig.tty && !ownTerm ? [...base, 'TERM=xterm'] : base, e.env));
    if (e.workingDir) p.cwd = e.workingDir;
    if (e.ProcessConfig.user) {
      const u = resolveUser(rootfsPaths(bundle).rootfs, e.ProcessConfig.user, rec.HostConfig.GroupAdd ?? []);
      p.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
    }
    p.terminal = e.ProcessConfig.tty;
    if (!e.ProcessConfig.tty) delete p.consoleSize;
    if (e.ProcessConfig.privileged) {
      const all = resolveCapabilities({ ...rec.HostConfig, Privileged: true });
      p.capabilities = { bounding: all, effective: all, permitted: all };
    }
    return p;
  }
}
