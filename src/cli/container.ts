// Container commands: run, create, start, ps, logs, stop/restart/kill, rm, wait, rename, top, pause, prune.
import type { Command } from 'commander';
import type { Duplex } from 'node:stream';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { EngineClient, ContainerStats } from '../client/api.js';
import { EngineError, isNotFound } from '../client/errors.js';
import { Demuxer, STDERR, SYSTEMERR } from '../client/stdcopy.js';
import type { Filters } from '../client/types.js';
import { clientFor } from './connect.js';
import { ExitError, FlagError, UsageError } from './errors.js';
import {
  bytesSize, containerHeaders, containerRow, defaultPsTable, humanSizePrec, parseFormat, parseTimestamp, renderRows, tabulate, truncId,
} from './format.js';
import { DetachScanner, parseDetachKeys } from '../util/detach-keys.js';
import { buildCreateRequest, parseEnvFile, parseRestart, resourceFlags, withDefaultTag, type CreateRequest, type ResourceFlags, type RunFlags } from './runopts.js';
import { err, out } from './output.js';


/** `--filter a=b --filter c=d` → {a:["b"], c:["d"]}. */
export function parseFilters(list: string[] | undefined): Filters {
  const f: Filters = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw new FlagError(`invalid argument "${item}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    (f[item.slice(0, i).trim().toLowerCase()] ??= []).push(item.slice(i + 1));
  }
  return f;
}

// ---- run / create ----

/** --cidfile: refused when the file exists (another container may own it); written once the container is made. */
interface CreateOptions { pull?: string; cidfile?: string; /** -q: no pull progress */ quiet?: boolean }

async function createContainer(client: EngineClient, req: CreateRequest, image: string, { pull: pullPolicy = 'missing', cidfile, quiet }: CreateOptions): Promise<string> {
  if (cidfile && existsSync(cidfile)) throw new ExitError(125, `tug: Container ID file found, make sure the other container isn't running or delete ${cidfile}`);
  const id = await createOrPull(client, req, image, pullPolicy, !!quiet);
  if (cidfile) {
    try { writeFileSync(cidfile, id, { flag: 'wx' }); } catch (e) { throw new ExitError(125, `tug: failed to write the container ID file: ${(e as Error).message}`); }
  }
  return id;
}

async function createOrPull(client: EngineClient, req: CreateRequest, image: string, pullPolicy: string, quiet: boolean): Promise<string> {
  if (!['missing', 'always', 'never'].includes(pullPolicy)) throw new UsageError(`invalid pull option: '${pullPolicy}': must be one of "always", "missing" or "never"`);
  const pull = async () => {
    const { pullImage } = await import('./image.js');
    await pullImage(client, image, { platform: req.platform, output: process.stderr, implicit: true, quiet });
  };
  if (pullPolicy === 'always') await pull();
  try {
    const r = await client.containerCreate(req.body, req.name, req.platform);
    for (const w of r.Warnings ?? []) err(`WARNING: ${w}\n`);
    return r.Id;
  } catch (e) {
    if (!(isNotFound(e) && /^No such image/i.test(e.message))) throw e;
    err(`Unable to find image '${withDefaultTag(image)}' locally\n`);
    if (pullPolicy !== 'missing') throw e;
    await pull();
    const r = await client.containerCreate(req.body, req.name, req.platform);
    for (const w of r.Warnings ?? []) err(`WARNING: ${w}\n`);
    return r.Id;
  }
}

export async function create(cmd: Command, image: string, args: string[]): Promise<void> {
  const f = cmd.opts() as RunFlags;
  // like docker create: stdout/stderr (and stdin with -i) marked attachable, for a later start -a
  const req = buildCreateRequest(image, args, f);
  const id = await createContainer(clientFor(cmd), req, image, f);
  out(`${id}\n`);
}

/** docker's exit status for a start that failed: 127 command not found, 126 cannot execute, else 125. */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/i.test(message)) return 127;
  if (/permission denied|cannot execute|exec format error/i.test(message)) return 126;
  return 125;
}

const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

interface AttachedSession { done: Promise<void>; cleanup: () => void; detached: () => boolean }

/**
 * Relay a hijacked attach stream: output demultiplexed (or raw for a TTY) to our stdout/stderr; our stdin piped in
 * when asked, with a half-close at EOF so the process sees end of input while its output keeps coming.
 */
export function relay(socket: Duplex, opts: { multiplexed: boolean; stdin: boolean; rawTty: boolean; detachKeys?: string }): AttachedSession {
  let sysErr = '';
  const demux = new Demuxer((stream, payload) => {
    if (stream === STDERR) err(payload);
    else if (stream === SYSTEMERR) sysErr += payload.toString();
    else out(payload);
  });
  let detached = false;
  let onDetach: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    onDetach = () => { detached = true; socket.destroy(); resolve(); };
    socket.on('data', (c: Buffer) => (opts.multiplexed ? demux.push(c) : out(c)));
    const finish = () => (sysErr ? reject(new Error(sysErr.trim())) : resolve());
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? finish() : reject(e)));
    socket.resume();
  });
  let restoreRaw = false;
  if (opts.stdin) {
    if (opts.rawTty && process.stdin.isTTY) { process.stdin.setRawMode(true); restoreRaw = true; }
    const scanner = opts.rawTty ? new DetachScanner(parseDetachKeys(opts.detachKeys || 'ctrl-p,ctrl-q')) : undefined;
    process.stdin.on('data', (c: Buffer) => {
      if (socket.destroyed) return;
      if (!scanner) { socket.write(c); return; }
      const r = scanner.feed(c);
      if (r.forward.length) socket.write(r.forward);
      if (r.detach) onDetach();
    });
    process.stdin.on('end', () => { if (!socket.destroyed) socket.end(); });
    process.stdin.on('error', () => { if (!socket.destroyed) socket.end(); });
    process.stdin.resume();
  }
  const cleanup = () => {
    if (restoreRaw) { try { process.stdin.setRawMode(false); } catch { /* not a tty any more */ } }
    if (opts.stdin) process.stdin.pause();
  };
  return { done, cleanup, detached: () => detached };
}

function proxySignals(client: EngineClient, id: string): () => void {
  const handler = (sig: NodeJS.Signals) => { client.containerKill(id, sig).catch(() => undefined); };
  for (const s of forwardedSignals) process.on(s, handler);
  return () => { for (const s of forwardedSignals) process.off(s, handler); };
}

function watchResize(client: EngineClient, id: string): () => void {
  if (!process.stdout.isTTY) return () => undefined;
  const resize = () => { client.containerResize(id, process.stdout.rows, process.stdout.columns).catch(() => undefined); };
  resize();
  process.stdout.on('resize', resize);
  return () => process.stdout.off('resize', resize);
}

interface StreamOptions { stdin: boolean; tty: boolean; sigProxy: boolean; detachKeys?: string }

/** Relay an attached session until the stream ends; the container's exit status, or 0 when the user detached. */
async function streamSession(
  client: EngineClient, id: string, h: { socket: Duplex; contentType?: string; multiplexed: boolean },
  wait: { result: Promise<{ StatusCode: number; Error?: { Message?: string } | null }> }, o: StreamOptions, errorPrefix: string,
): Promise<number> {
  const multiplexed = h.contentType ? h.multiplexed : !o.tty;
  const session = relay(h.socket, { multiplexed, stdin: o.stdin, rawTty: o.tty, detachKeys: o.detachKeys });
  const stopResize = o.tty ? watchResize(client, id) : () => undefined;
  const stopSignals = o.sigProxy && !o.tty ? proxySignals(client, id) : () => undefined;
  try {
    await session.done;
    if (session.detached()) return 0; // the container keeps running; like docker, leave without its status
    const status = await wait.result;
    if (status.Error?.Message) throw new ExitError(125, `${errorPrefix}${status.Error.Message}`);
    return status.StatusCode;
  } finally {
    session.cleanup();
    stopResize();
    stopSignals();
  }
}

/** Attach → wait → start → relay → exit status; shared by `run` and `start -a`. */
async function attachAndStart(
  client: EngineClient, id: string,
  o: StreamOptions & { stdout: boolean; stderr: boolean; autoRemove: boolean; startErrorPrefix: string; commandName: string },
): Promise<number> {
  // both are in place before the start (no output and no exit missed); neither needs the other
  const [attached, waiting] = await Promise.allSettled([
    client.containerAttach(id, { stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, detachKeys: o.detachKeys }),
    client.containerWait(id, o.autoRemove ? 'removed' : 'next-exit'),
  ]);
  if (attached.status === 'rejected') throw attached.reason;
  const h = attached.value;
  if (waiting.status === 'rejected') { h.socket.destroy(); throw waiting.reason; }
  const wait = waiting.value;
  try {
    await client.containerStart(id);
  } catch (e) {
    h.socket.destroy();
    if (e instanceof EngineError) {
      err(`${o.startErrorPrefix}Error response from daemon: ${e.message}\n\nRun '${o.commandName} --help' for more information\n`);
      throw new ExitError(startFailureCode(e.message));
    }
    throw e;
  }
  return streamSession(client, id, h, wait, o, o.startErrorPrefix);
}

/** `attach`: join a running container's streams; ctrl-p ctrl-q leaves it running. */
export async function attach(cmd: Command, ref: string): Promise<void> {
  const o = cmd.opts() as { stdin?: boolean; sigProxy?: boolean; detachKeys?: string };
  if (o.detachKeys) {
    try { parseDetachKeys(o.detachKeys); } catch (e) { throw new UsageError((e as Error).message); }
  }
  const client = clientFor(cmd);
  const c = await client.containerInspect(ref);
  if (!c.State.Running) throw new ExitError(1, 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new ExitError(1, 'You cannot attach to a paused container, unpause it first');
  const tty = !!c.Config.Tty;
  const stdin = o.stdin !== false && !!c.Config.OpenStdin;
  if (stdin && tty && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
  const h = await client.containerAttach(c.Id, { stdin, stdout: true, stderr: true, detachKeys: o.detachKeys });
  const wait = await client.containerWait(c.Id, 'not-running');
  throw new ExitError(await streamSession(client, c.Id, h, wait, { stdin, tty, sigProxy: o.sigProxy !== false, detachKeys: o.detachKeys }, ''));
}

export async function run(cmd: Command, image: string, args: string[]): Promise<void> {
  const f = cmd.opts() as RunFlags & { sigProxy?: boolean; detachKeys?: string };
  const req = buildCreateRequest(image, args, f);
  if (f.detachKeys) {
    try { parseDetachKeys(f.detachKeys); } catch (e) { throw new UsageError((e as Error).message); }
  }
  if (!f.detach && f.tty && req.body.AttachStdin && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
  if (f.tty && process.stdout.isTTY) req.body.HostConfig.ConsoleSize = [process.stdout.rows, process.stdout.columns];
  const client = clientFor(cmd);
  const id = await createContainer(client, req, image, f);
  const name = cmd.parent?.parent ? 'tug container run' : 'tug run';
  if (f.detach) {
    try {
      await client.containerStart(id);
    } catch (e) {
      if (e instanceof EngineError) {
        err(`tug: Error response from daemon: ${e.message}\n\nRun '${name} --help' for more information\n`);
        throw new ExitError(startFailureCode(e.message));
      }
      throw e;
    }
    out(`${id}\n`);
    return;
  }
  const b = req.body;
  const code = await attachAndStart(client, id, {
    stdin: !!b.AttachStdin, stdout: !!b.AttachStdout, stderr: !!b.AttachStderr, tty: !!b.Tty,
    autoRemove: !!b.HostConfig.AutoRemove, sigProxy: f.sigProxy !== false, startErrorPrefix: 'tug: ', commandName: name, detachKeys: f.detachKeys,
  });
  throw new ExitError(code);
}

export async function start(cmd: Command, ids: string[]): Promise<void> {
  const o = cmd.opts() as { attach?: boolean; interactive?: boolean; detachKeys?: string };
  const client = clientFor(cmd);
  if (o.attach || o.interactive) {
    if (ids.length > 1) throw new ExitError(1, 'you cannot start and attach multiple containers at once');
    const c = await client.containerInspect(ids[0]);
    const tty = !!c.Config.Tty;
    const stdin = !!o.interactive && !!c.Config.OpenStdin;
    const code = await attachAndStart(client, c.Id, {
      stdin, stdout: true, stderr: true, tty, autoRemove: !!c.HostConfig.AutoRemove, sigProxy: !tty, startErrorPrefix: '', commandName: 'tug start', detachKeys: o.detachKeys,
    });
    throw new ExitError(code);
  }
  await eachContainer(ids, (id) => client.containerStart(id), 'start');
}

/** Apply an operation to each argument: print the argument on success, the error on failure; exit 1 if any failed. */
async function eachContainer(ids: string[], op: (id: string) => Promise<void>, verb?: string, print = true): Promise<void> {
  const failed: string[] = [];
  for (const id of ids) {
    try {
      await op(id);
      if (print) out(`${id}\n`);
    } catch (e) {
      failed.push(id);
      err(e instanceof EngineError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  if (failed.length) throw new ExitError(1, verb === 'start' ? `Error: failed to start containers: ${failed.join(', ')}` : '');
}

// ---- ps ----

export async function ps(cmd: Command): Promise<void> {
  const o = cmd.opts() as { all?: boolean; filter?: string[]; format?: string; last?: string; latest?: boolean; trunc?: boolean; quiet?: boolean; size?: boolean };
  const client = clientFor(cmd);
  let limit = Number(o.last ?? -1);
  if (!Number.isInteger(limit)) throw new FlagError(`invalid argument "${o.last}" for "-n, --last" flag: strconv.ParseInt: parsing "${o.last}": invalid syntax`);
  if (o.latest) limit = 1;
  const spec = parseFormat(o.format, defaultPsTable);
  // as docker: sizes are asked for when the template reads them, which `{{json .}}` does (`--format json` not)
  const wantSize = !!o.size || (!o.quiet && spec.kind !== 'json' && /\.Size\b|\bjson\s+\.(?![\w.])/.test(spec.template));
  const list = await client.containerList({ all: !!o.all || limit > 0, limit: limit > 0 ? limit : undefined, size: wantSize, filters: parseFilters(o.filter) });
  const trunc = o.trunc !== false;
  if (o.quiet) {
    out(list.map((c) => `${trunc ? truncId(c.Id) : c.Id}\n`).join(''));
    return;
  }
  let tpl = spec;
  if (o.size && spec.kind === 'table' && !/\.Size\b/.test(spec.template)) tpl = { ...spec, template: `${spec.template}\t{{.Size}}` };
  out(renderRows(tpl, list.map((c) => containerRow(c, { trunc })), containerHeaders));
}

// ---- logs ----

export async function logs(cmd: Command, id: string): Promise<void> {
  const o = cmd.opts() as { follow?: boolean; since?: string; tail?: string; timestamps?: boolean; until?: string; details?: boolean };
  const client = clientFor(cmd);
  const c = await client.containerInspect(id);
  let since: string | undefined;
  let until: string | undefined;
  try {
    if (o.since) since = parseTimestamp(o.since);
    if (o.until) until = parseTimestamp(o.until);
  } catch (e) {
    throw new ExitError(1, (e as Error).message);
  }
  const r = await client.containerLogs(c.Id, { follow: o.follow, timestamps: o.timestamps, tail: o.tail, since, until });
  const ct = String(r.headers['content-type'] ?? '');
  const multiplexed = ct.includes('multiplexed') || (!ct.includes('raw-stream') && !c.Config.Tty);
  await new Promise<void>((resolve, reject) => {
    const d = new Demuxer((s, p) => (s === STDERR ? err(p) : out(p)));
    r.body.on('data', (chunk: Buffer) => (multiplexed ? d.push(chunk) : out(chunk)));
    r.body.on('end', resolve);
    r.body.on('error', reject);
    const stop = () => { r.body.destroy(); resolve(); };
    process.once('SIGINT', stop);
  });
}

// ---- stop / restart / kill / rm / pause / wait / rename / top / prune ----

export async function stop(cmd: Command, ids: string[], verb: 'stop' | 'restart'): Promise<void> {
  const o = cmd.opts() as { signal?: string; timeout?: string; time?: string };
  const t = o.timeout ?? o.time;
  let timeout: number | undefined;
  if (t !== undefined) {
    if (!/^-?\d+$/.test(t)) throw new FlagError(`invalid argument "${t}" for "-t, --timeout" flag: strconv.ParseInt: parsing "${t}": invalid syntax`);
    timeout = Number(t);
  }
  const client = clientFor(cmd);
  await eachContainer(ids, (id) => (verb === 'stop' ? client.containerStop(id, { timeout, signal: o.signal }) : client.containerRestart(id, { timeout, signal: o.signal })));
}

export async function kill(cmd: Command, ids: string[]): Promise<void> {
  const o = cmd.opts() as { signal?: string };
  const client = clientFor(cmd);
  await eachContainer(ids, (id) => client.containerKill(id, o.signal));
}

export async function rm(cmd: Command, ids: string[]): Promise<void> {
  const o = cmd.opts() as { force?: boolean; volumes?: boolean; link?: boolean };
  const client = clientFor(cmd);
  const failed: string[] = [];
  for (const id of ids) {
    try {
      await client.containerRemove(id, { force: o.force, volumes: o.volumes, link: o.link });
      out(`${id}\n`);
    } catch (e) {
      // like docker: `rm -f` of something that does not exist is silently fine
      if (o.force && isNotFound(e)) continue;
      failed.push(id);
      err(e instanceof EngineError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  if (failed.length) throw new ExitError(1);
}

export async function pause(cmd: Command, ids: string[], on: boolean): Promise<void> {
  const client = clientFor(cmd);
  await eachContainer(ids, (id) => (on ? client.containerPause(id) : client.containerUnpause(id)));
}

export async function wait(cmd: Command, ids: string[]): Promise<void> {
  const client = clientFor(cmd);
  await eachContainer(ids, async (id) => {
    const w = await client.containerWait(id);
    const r = await w.result;
    if (r.Error?.Message) throw new Error(r.Error.Message);
    out(`${r.StatusCode}\n`);
  }, undefined, false);
}

export async function rename(cmd: Command, id: string, name: string): Promise<void> {
  const client = clientFor(cmd);
  try {
    await client.containerRename(id, name);
  } catch (e) {
    if (e instanceof EngineError) throw new ExitError(1, `Error response from daemon: ${e.message}\nError: failed to rename container named ${id}`);
    throw e;
  }
}

export async function top(cmd: Command, id: string, psArgs: string[]): Promise<void> {
  const client = clientFor(cmd);
  const r = await client.containerTop(id, psArgs.join(' '));
  out(tabulate([r.Titles, ...r.Processes], 20, 3));
}

export async function confirm(question: string): Promise<boolean> {
  out(question);
  if (!process.stdin.readable) return false;
  const { createInterface } = createRequire(import.meta.url)('node:readline') as typeof import('node:readline');
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

export async function prune(cmd: Command): Promise<void> {
  const o = cmd.opts() as { force?: boolean; filter?: string[] };
  const filters = parseFilters(o.filter);
  if (!o.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return;
  const r = await clientFor(cmd).containerPrune(filters);
  const deleted = r.ContainersDeleted ?? [];
  if (deleted.length) out(`Deleted Containers:\n${deleted.map((d) => `${d}\n`).join('')}\n`);
  out(`Total reclaimed space: ${humanSizePrec(r.SpaceReclaimed ?? 0, 4)}\n`);
}

// ---- exec / port ----

export async function exec(cmd: Command, id: string, command: string[]): Promise<void> {
  const o = cmd.opts() as { detach?: boolean; interactive?: boolean; tty?: boolean; env?: string[]; envFile?: string[]; workdir?: string; user?: string; privileged?: boolean; detachKeys?: string };
  if (!command.length) throw new UsageError("'tug exec' requires at least 2 arguments", 1);
  const client = clientFor(cmd);
  const env = [...(o.envFile ?? []).flatMap((f) => parseEnvFile(readEnvFile(f))), ...(o.env ?? []).map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`))];
  if (!o.detach && o.tty && o.interactive && !process.stdin.isTTY) throw new ExitError(1, 'the input device is not a TTY');
  const attached = !o.detach;
  const ex = await client.execCreate(id, {
    AttachStdin: attached && !!o.interactive, AttachStdout: attached, AttachStderr: attached, Tty: !!o.tty,
    Env: env.length ? env : undefined, WorkingDir: o.workdir, User: o.user, Privileged: !!o.privileged, Cmd: command, DetachKeys: o.detachKeys,
  });
  if (o.detach) {
    await client.t.buffer('POST', `/exec/${encodeURIComponent(ex.Id)}/start`, { body: { Detach: true, Tty: !!o.tty } });
    return;
  }
  const h = await client.execStart(ex.Id, { Detach: false, Tty: !!o.tty });
  const session = relay(h.socket, { multiplexed: h.contentType ? h.multiplexed : !o.tty, stdin: !!o.interactive, rawTty: !!o.tty, detachKeys: o.detachKeys });
  let stopResize = () => undefined as void;
  if (o.tty && process.stdout.isTTY) {
    const resize = () => { client.execResize(ex.Id, process.stdout.rows, process.stdout.columns).catch(() => undefined); };
    resize();
    process.stdout.on('resize', resize);
    stopResize = () => { process.stdout.off('resize', resize); };
  }
  try {
    await session.done;
  } finally {
    session.cleanup();
    stopResize();
  }
  if (session.detached()) return;
  const r = await client.execInspect(ex.Id);
  throw new ExitError(r.ExitCode ?? 0);
}

function readEnvFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ExitError(1, `open ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
}

/** `tug port CONTAINER [PRIVATE_PORT[/PROTO]]`: "80/tcp -> 0.0.0.0:8080". */
export async function port(cmd: Command, id: string, which?: string): Promise<void> {
  const c = await clientFor(cmd).containerInspect(id);
  const ports = ((c.NetworkSettings as { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> } | undefined)?.Ports) ?? {};
  const fmt = (b: { HostIp: string; HostPort: string }) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}`;
  if (which) {
    const key = which.includes('/') ? which : `${which}/tcp`;
    const bindings = ports[key];
    if (!bindings || !bindings.length) throw new ExitError(1, `Error: No public port '${key}' published for ${id}`);
    out(bindings.map((b) => `${fmt(b)}\n`).join(''));
    return;
  }
  const keys = Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || (a < b ? -1 : 1));
  for (const k of keys) for (const b of ports[k] ?? []) out(`${k} -> ${fmt(b)}\n`);
}

// ---- stats ----

/** docker's figures: CPU % from the deltas against the previous sample, memory without the page cache. */
export function statsRow(s: ContainerStats, trunc: boolean, given?: string): Record<string, string> {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * (s.cpu_stats.online_cpus ?? 1) * 100 : 0;
  const m = s.memory_stats;
  const cache = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  const used = Math.max(0, (m.usage ?? 0) - cache);
  const limit = m.limit ?? 0;
  const net = { rx: 0, tx: 0 };
  for (const n of Object.values(s.networks ?? {})) { net.rx += n.rx_bytes ?? 0; net.tx += n.tx_bytes ?? 0; }
  const blk = { read: 0, write: 0 };
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') blk.read += e.value;
    else if (op === 'write') blk.write += e.value;
  }
  return {
    ID: trunc ? s.id.slice(0, 12) : s.id,
    // as docker: the name or ID the user gave, else the short ID
    Container: given ?? s.id.slice(0, 12),
    Name: s.name.replace(/^\//, ''),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(used)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (used / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSizePrec(net.rx, 3)} / ${humanSizePrec(net.tx, 3)}`,
    BlockIO: `${humanSizePrec(blk.read, 3)} / ${humanSizePrec(blk.write, 3)}`,
    PIDs: String(s.pids_stats.current ?? 0),
  };
}

const statsHeaders = { ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };
const defaultStatsTable = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export async function stats(cmd: Command, names: string[]): Promise<void> {
  // commander turns --no-stream / --no-trunc into stream: false / trunc: false
  const o = cmd.opts() as { all?: boolean; stream?: boolean; trunc?: boolean; format?: string };
  const trunc = o.trunc !== false;
  const client = clientFor(cmd);
  const ids = names.length > 0 ? names : (await client.containerList({ all: !!o.all })).map((c) => c.Id);
  const spec = parseFormat(o.format, defaultStatsTable);
  const sampleRows = async () => (await Promise.all(ids.map((id) => client.containerStats(id)))).map((s, i) => statsRow(s, trunc, names[i]));
  if (o.stream === false) {
    out(renderRows(spec, await sampleRows(), statsHeaders));
    return;
  }
  for (;;) {
    const started = Date.now();
    const rows = await sampleRows();
    out(`\x1b[2J\x1b[H${renderRows(spec, rows, statsHeaders)}`);
    await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - started)))); // a refresh a second
  }
}

// ---- update ----

export async function update(cmd: Command, ids: string[]): Promise<void> {
  const f = cmd.opts() as ResourceFlags & { restart?: string };
  const body: Record<string, unknown> = { ...resourceFlags(f) };
  if (f.restart !== undefined) body.RestartPolicy = parseRestart(f.restart);
  if (Object.keys(body).length === 0) throw new UsageError('you must provide one or more flags when using this command');
  const client = clientFor(cmd);
  await eachContainer(ids, async (id) => { await client.containerUpdate(id, body); }, 'update');
}
