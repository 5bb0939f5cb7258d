// /containers/*: maps the Engine API onto the container store and supervisor.
import type { Duplex } from 'node:stream';
import type { Writable } from 'node:stream';
import { Router, qbool, qint, qTerminalSize, qfilters, pruneUntil, sendJson, sendNoContent, readJsonBody, labelsMatch, type Ctx } from '../router.js';
import { acceptHijack } from '../server.js';
import { frame, streamContentType, STDOUT, STDERR } from '../stdcopy.js';
import type { ContainerStore } from '../../services/containers/store.js';
import type { Supervisor } from '../../services/containers/supervisor.js';
import type { ImageService } from '../../services/images/types.js';
import type { EndpointRequest } from '../../services/network/types.js';
import type { ContainerRecord } from '../../services/containers/types.js';
import type { EventBus } from '../../services/events/bus.js';
import { buildRecord, type CreateBody } from '../../services/containers/create.js';
import { readExisting, LogFollower, type LogEntry, type LogReadOptions } from '../../services/logs/k8sfile.js';
import { ApiError, badRequest, conflict, notFound, notModified } from '../../util/errors.js';
import { randomName } from '../../util/ids.js';
import { inspectView, summaryView } from './containers-view.js';
import { log } from '../../util/log.js';
import { normalizeLinks } from '../../services/containers/links.js';
import { DetachScanner, parseDetachKeys } from '../../util/detach-keys.js';
import { runProgram } from '../../sys/spawn.js';


export interface ContainerRouteDeps {
  store: ContainerStore;
  supervisor: Supervisor;
  images: ImageService;
  events: EventBus;
  runtimes: string[];
  defaultRuntime: string;
  /** Writable-layer sizes, kept up to date rather than walked per request. */
  sizes: { rw(rec: ContainerRecord): Promise<number> };
  /** Canonical display name of an image reference ("busybox" -> "busybox:latest"). */
  normalizeRef: (ref: string) => string;
  /** The networks a new container belongs to, from its mode and create's EndpointsConfig (docker's checks). */
  /** Its volumes and bind mounts, planned (named and anonymous volumes made) from -v, --mount and VOLUMEs. */
  mounts: { plan(hc: ContainerRecord['HostConfig'], volumes: ContainerRecord['Config']['Volumes']): Promise<NonNullable<ContainerRecord['Mounts']>> };
  networks: { resolveForCreate(mode: string, endpoints: Record<string, EndpointRequest | null> | undefined): ContainerRecord['Networks'] };
}

function parseTime(v: string | null): number {
  if (!v) return 0;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid time value: ${v}`);
  return t / 1000;
}

export function registerContainerRoutes(r: Router, d: ContainerRouteDeps): void {
  const get = (ctx: Ctx) => d.store.get(ctx.params.id);
  const imageName = (rec: ContainerRecord) => rec.Config.Image ?? rec.Image;

  r.post(/^\/containers\/create$/, async (ctx) => {
    const body = await readJsonBody<CreateBody>(ctx.req);
    if (!body || typeof body !== 'object' || !body.Image) throw badRequest('Config cannot be empty in order to create a container');
    const image = d.images.resolve(body.Image);
    if (!image) throw notFound(`No such image: ${d.normalizeRef(body.Image)}`);
    const requested = ctx.query.get('name')?.replace(/^\//, '');
    let name = requested;
    while (!name || (!requested && d.store.find(name))) name = `${randomName()}${name ? Math.floor(Math.random() * 10) : ''}`;
    const rec = buildRecord(body, image, name, body.Image, d.runtimes, d.defaultRuntime, (id) => `${d.store.dir(id)}/container.log`);
    const mode = rec.HostConfig.NetworkMode ?? 'default';
    rec.HostConfig.Links = normalizeLinks(rec.HostConfig.Links, rec.Name, mode, (ref) => d.store.find(ref));
    const endpoints = { ...(body.NetworkingConfig?.EndpointsConfig ?? {}) };
    // before API 1.44 the MAC address came in Config, for the first network
    if (body.MacAddress) {
      const primary = mode === 'default' ? 'bridge' : mode;
      endpoints[primary] = { ...(endpoints[primary] ?? {}), MacAddress: endpoints[primary]?.MacAddress || body.MacAddress };
    }
    rec.Networks = d.networks.resolveForCreate(mode, endpoints);
    rec.Mounts = await d.mounts.plan(rec.HostConfig, rec.Config.Volumes);
    d.store.reserveName(rec.Name, rec.Id);
    try {
      await d.store.add(rec);
    } catch (e) {
      d.store.releaseName(rec.Name);
      throw e;
    }
    d.events.publish('container', 'create', rec.Id, d.supervisor.attrs(rec));
    sendJson(ctx.res, 201, { Id: rec.Id, Warnings: [] });
  });

  r.get(/^\/containers\/json$/, async (ctx) => {
    const all = qbool(ctx.query, 'all');
    const limit = qint(ctx.query, 'limit', -1);
    const withSize = qbool(ctx.query, 'size');
    const f = qfilters(ctx.query);
    validatePsFilters(f);
    let list = d.store.all().sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    if (!all && limit <= 0 && !f.status) list = list.filter((c) => c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting');
    list = list.filter((c) => matchFilters(c, f, d));
    if (limit > 0) list = list.slice(0, limit);
    const out = await Promise.all(list.map(async (c) => {
      const size = withSize ? { rw: await d.sizes.rw(c), rootfs: (d.images.resolve(c.Image)?.size ?? 0) } : undefined;
      if (size) size.rootfs += size.rw;
      return summaryView(c, imageName(c), size);
    }));
    sendJson(ctx.res, 200, out);
  });

  r.get(/^\/containers\/(?<id>[^/]+)\/json$/, async (ctx) => {
    const rec = get(ctx);
    const image = d.images.resolve(rec.Image);
    const withSize = qbool(ctx.query, 'size');
    const rw = withSize ? await d.sizes.rw(rec) : undefined;
    sendJson(ctx.res, 200, inspectView(rec, d.store.dir(rec.Id), {
      lowerDirs: image ? d.images.lowerDirs(image) : [],
      sizeRw: rw,
      sizeRootFs: rw === undefined ? undefined : rw + (image?.size ?? 0),
    }));
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/start$/, async (ctx) => {
    const rec = get(ctx);
    if (rec.State.Status === 'running' || rec.State.Status === 'paused') throw notModified();
    await d.supervisor.start(rec);
    sendNoContent(ctx.res);
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/stop$/, async (ctx) => {
    const rec = get(ctx);
    const t = ctx.query.get('t');
    const stopped = await d.supervisor.stop(rec, t === null || t === '' ? undefined : Number(t), ctx.query.get('signal') ?? undefined);
    if (!stopped) throw notModified();
    sendNoContent(ctx.res);
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/restart$/, async (ctx) => {
    const rec = get(ctx);
    const t = ctx.query.get('t');
    await d.supervisor.restart(rec, t === null || t === '' ? undefined : Number(t), ctx.query.get('signal') ?? undefined);
    sendNoContent(ctx.res);
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/kill$/, async (ctx) => {
    await d.supervisor.kill(get(ctx), ctx.query.get('signal') ?? undefined);
    sendNoContent(ctx.res);
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/update$/, async (ctx) => {
    await d.supervisor.update(get(ctx), await readJsonBody<Partial<ContainerRecord['HostConfig']>>(ctx.req));
    sendJson(ctx.res, 200, { Warnings: [] });
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/pause$/, async (ctx) => { await d.supervisor.pause(get(ctx)); sendNoContent(ctx.res); });
  r.post(/^\/containers\/(?<id>[^/]+)\/unpause$/, async (ctx) => { await d.supervisor.unpause(get(ctx)); sendNoContent(ctx.res); });

  r.delete(/^\/containers\/(?<id>[^/]+)$/, async (ctx) => {
    await d.supervisor.remove(get(ctx), { force: qbool(ctx.query, 'force'), volumes: qbool(ctx.query, 'v') });
    sendNoContent(ctx.res);
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/rename$/, async (ctx) => {
    const rec = get(ctx);
    const name = (ctx.query.get('name') ?? '').replace(/^\//, '');
    if (!name) throw badRequest('Neither old nor new names may be empty');
    if (name === rec.Name) throw conflict(`Renaming a container with the same name as its current name`);
    d.store.reserveName(name, rec.Id);
    const old = rec.Name;
    d.store.releaseName(old);
    rec.Name = name;
    await d.store.save(rec, true);
    d.events.publish('container', 'rename', rec.Id, { ...d.supervisor.attrs(rec), oldName: `/${old}` });
    sendNoContent(ctx.res);
  });

  r.post(/^\/containers\/(?<id>[^/]+)\/wait$/, async (ctx) => {
    const rec = get(ctx);
    const condition = ctx.query.get('condition') || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
    const running = rec.State.Status === 'running' || rec.State.Status === 'paused' || rec.State.Status === 'restarting';
    // headers go out at once: the docker CLI starts the container only after the wait is in place
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const reply = () => { ctx.res.end(JSON.stringify({ StatusCode: rec.State.ExitCode, Error: null }) + '\n'); };
    if (condition === 'not-running' && !running) { reply(); return; }
    const waitFor = condition === 'removed' ? 'destroy' : 'die';
    await new Promise<void>((resolve) => {
      const off = d.events.subscribe((e) => {
        if (e.Type !== 'container' || e.Actor.ID !== rec.Id || e.Action !== waitFor) return;
        off(); resolve();
      });
      ctx.res.on('close', () => { off(); resolve(); });
    });
    if (!ctx.res.writableEnded) reply();
  });

  r.get(/^\/containers\/(?<id>[^/]+)\/logs$/, async (ctx) => {
    const rec = get(ctx);
    const o = logOptions(ctx);
    if (!o.stdout && !o.stderr) throw badRequest('You must choose at least one stream');
    const tty = !!rec.Config.Tty;
    const timestamps = qbool(ctx.query, 'timestamps');
    ctx.res.writeHead(200, { 'Content-Type': streamContentType(tty, ctx.version) });
    ctx.res.on('error', () => ctx.res.destroy());
    const write = entryWriter((b) => { if (!ctx.res.destroyed) ctx.res.write(b); }, tty, timestamps);
    const { entries, position } = await readExisting(rec.LogPath, o);
    for (const e of entries) write(e);
    const running = rec.State.Status === 'running' || rec.State.Status === 'paused' || rec.State.Status === 'restarting';
    if (!qbool(ctx.query, 'follow') || !running) { ctx.res.end(); return; }
    ctx.res.flushHeaders();
    await follow(rec.LogPath, position, { ...o, tail: -1, since: 0 }, write, d, rec.Id, ctx.res);
    ctx.res.end();
  });

  const attach = async (ctx: Ctx) => {
    const rec = get(ctx);
    const tty = !!rec.Config.Tty;
    const wantStdin = qbool(ctx.query, 'stdin') && !!rec.Config.OpenStdin;
    const o: LogReadOptions = { stdout: qbool(ctx.query, 'stdout'), stderr: qbool(ctx.query, 'stderr'), since: 0, until: 0, tail: -1 };
    // register for stdin and for the next exit before answering, so a start that follows at once is seen
    const running = rec.State.Status === 'running' || rec.State.Status === 'paused';
    const stdinP: Promise<Writable | undefined> | undefined = wantStdin
      ? (running ? Promise.resolve(d.supervisor.openStdin(rec)) : d.supervisor.waitForStdin(rec.Id))
      : undefined;
    const { entries, position } = await readExisting(rec.LogPath, { ...o, tail: -1 });
    let keys: Buffer | undefined;
    if (tty && stdinP) {
      try { keys = parseDetachKeys(ctx.query.get('detachKeys') || 'ctrl-p,ctrl-q'); } catch (e) { throw badRequest((e as Error).message); }
    }
    const sock = acceptHijack(ctx, streamContentType(tty, ctx.version));
    d.events.publish('container', 'attach', rec.Id, d.supervisor.attrs(rec));
    sock.on('error', () => sock.destroy()); // a client that went away must not take the daemon down
    const write = entryWriter((b) => { if (!sock.destroyed) sock.write(b); }, tty, false);
    if (qbool(ctx.query, 'logs')) for (const e of entries) write(e);
    // docker's server-side detach: with a TTY, the key sequence (ctrl-p,ctrl-q unless asked otherwise) ends this
    // attachment and leaves the container running
    if (stdinP) pipeStdin(sock, ctx.upgrade?.head, stdinP, keys && new DetachScanner(keys));
    if (!qbool(ctx.query, 'stream', true)) { sock.end(); return; }
    await follow(rec.LogPath, position, o, write, d, rec.Id, sock, true);
    sock.end();
  };
  r.post(/^\/containers\/(?<id>[^/]+)\/attach$/, attach);

  r.post(/^\/containers\/(?<id>[^/]+)\/resize$/, async (ctx) => {
    const rec = get(ctx);
    const { height, width } = qTerminalSize(ctx.query);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
    if (!rec.Config.Tty) throw conflict(`Container ${rec.Id} has no terminal to resize: it was created without -t`);
    d.supervisor.resize(rec, height, width);
    sendNoContent(ctx.res, 200);
  });

  r.get(/^\/containers\/(?<id>[^/]+)\/top$/, async (ctx) => {
    const rec = get(ctx);
    if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') throw conflict(`Container ${rec.Id} is not running`);
    const args = (ctx.query.get('ps_args') || '-ef').split(/\s+/).filter(Boolean);
    sendJson(ctx.res, 200, await top(d.supervisor.pids(rec), args));
  });

  r.post(/^\/containers\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of d.store.all()) {
      if (c.State.Status !== 'exited' && c.State.Status !== 'created' && c.State.Status !== 'dead') continue;
      if (!matchFilters(c, { label: f.label ?? [] }, d)) continue;
      if (f.until?.length && Date.parse(c.Created) / 1000 >= pruneUntil(f.until[0])) continue;
      reclaimed += await d.sizes.rw(c);
      await d.supervisor.remove(c, { force: false, volumes: false });
      deleted.push(c.Id);
    }
    sendJson(ctx.res, 200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
}

function logOptions(ctx: Ctx): LogReadOptions {
  const tailRaw = ctx.query.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? -1 : Number(tailRaw);
  if (!Number.isInteger(tail)) throw badRequest(`invalid value for "tail": ${tailRaw}`);
  return { stdout: qbool(ctx.query, 'stdout'), stderr: qbool(ctx.query, 'stderr'), since: parseTime(ctx.query.get('since')), until: parseTime(ctx.query.get('until')), tail };
}

function entryWriter(out: (b: Buffer) => void, tty: boolean, timestamps: boolean): (e: LogEntry) => void {
  return (e) => {
    const data = timestamps ? Buffer.concat([Buffer.from(toRfc3339Nano(e.time) + ' '), e.data]) : e.data;
    out(tty ? data : frame(e.stream === 'stdout' ? STDOUT : STDERR, data));
  };
}

/** conmon writes "+00:00" offsets; docker prints UTC with a Z. */
function toRfc3339Nano(t: string): string {
  const m = /^(.*T[\d:]+)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  if (m[3] === 'Z' || m[3] === '+00:00') return `${m[1]}${m[2] ?? ''}Z`;
  const d = new Date(Date.parse(t));
  return d.toISOString().replace(/\.\d+Z$/, `${m[2] ?? ''}Z`);
}

/** Follow a log until the container's next exit (or the client leaves). */
function follow(path: string, position: { ino: number; offset: number }, o: LogReadOptions, write: (e: LogEntry) => void, d: ContainerRouteDeps, id: string, sink: { on(ev: 'close', fn: () => void): unknown }, untilNextExit = false): Promise<void> {
  return new Promise((resolve) => {
    const follower = new LogFollower(path, position, o, (e) => { write(e); }, () => { off(); resolve(); });
    const off = d.events.subscribe((e) => {
      if (e.Type === 'container' && e.Actor.ID === id && (e.Action === 'die' || e.Action === 'destroy')) follower.finish();
    });
    sink.on('close', () => { follower.stop(); off(); resolve(); });
    follower.start();
    if (!untilNextExit) {
      const rec = d.store.find(id);
      if (!rec || (rec.State.Status !== 'running' && rec.State.Status !== 'paused' && rec.State.Status !== 'restarting')) follower.finish();
    }
  });
}

/** Client input flows into the container's stdin once it exists; a client half-close closes it. */
function pipeStdin(client: Duplex, head: Buffer | undefined, target: Promise<Writable | undefined>, detach?: DetachScanner): void {
  client.pause();
  void target.then((s) => {
    if (!s) { client.resume(); return; }
    s.on('error', () => client.unpipe(s));
    if (detach) {
      const feed = (chunk: Buffer) => {
        const r = detach.feed(chunk);
        if (r.forward.length) s.write(r.forward);
        if (r.detach) { log.debug('attach: detached by key sequence'); client.off('data', feed); client.end(); client.destroy(); }
      };
      if (head && head.length) feed(head);
      client.on('data', feed);
      client.on('end', () => s.end());
      client.resume();
    } else {
      if (head && head.length) s.write(head);
      client.pipe(s);
    }
    client.on('end', () => log.debug('attach: client closed stdin'));
    s.on('close', () => log.debug('attach: container stdin closed'));
    client.on('close', () => s.destroy());
  });
}

async function top(pids: number[], args: string[]): Promise<{ Titles: string[]; Processes: string[][] }> {
  let out: string;
  try {
    ({ stdout: out } = await runProgram('ps', args, { maxBuffer: 32 << 20 }));
  } catch (e) {
    throw new ApiError(500, `ps: ${(e as Error).message}`);
  }
  const lines = out.split('\n').filter((l) => l.trim());
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new ApiError(500, `Couldn't find PID field in ps output`);
  const want = new Set(pids);
  const procs: string[][] = [];
  for (const l of lines.slice(1)) {
    const fields = l.trim().split(/\s+/);
    if (!want.has(Number(fields[pidCol]))) continue;
    // the last column (command) may contain spaces
    procs.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: procs };
}

const PS_FILTERS = ['status', 'name', 'id', 'label', 'ancestor', 'exited', 'before', 'since', 'health', 'network', 'publish', 'expose', 'volume', 'is-task'];
const PORT_FILTER = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/;

/** `publish`/`expose` values: a port or a range of them, with a protocol (tcp unless said), as "80/tcp" keys. */
function portKeys(v: string): string[] {
  const m = PORT_FILTER.exec(v)!;
  const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => `${from + i}/${m[3] ?? 'tcp'}`);
}
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Refuse unknown filters and values up front, whether or not any container would be tested. */
function validatePsFilters(f: Record<string, string[]>): void {
  for (const [k, vals] of Object.entries(f)) {
    if (!PS_FILTERS.includes(k)) throw badRequest(`invalid filter '${k}'`);
    for (const v of vals) {
      if (k === 'status' && !STATUSES.includes(v)) throw badRequest(`invalid filter 'status=${v}'`);
      if (k === 'health' && !['starting', 'healthy', 'unhealthy', 'none'].includes(v)) throw badRequest(`Unrecognised filter value for health: ${v}`);
      if (k === 'exited' && !/^-?\d+$/.test(v)) throw badRequest(`invalid filter 'exited=${v}'`);
      if ((k === 'publish' || k === 'expose') && !PORT_FILTER.test(v)) throw badRequest(`invalid filter '${k}=${v}'`);
      if (k === 'is-task' && !['true', 'false', '1', '0'].includes(v)) throw badRequest(`invalid filter 'is-task=${v}'`);
    }
  }
}

function matchFilters(c: ContainerRecord, f: Record<string, string[]>, d: ContainerRouteDeps): boolean {
  for (const [k, vals] of Object.entries(f)) {
    if (vals.length === 0) continue;
    // every label given must be there (docker ANDs labels); any one value of the other filters will do
    if (k === 'label') { if (!labelsMatch(c.Config.Labels ?? {}, vals)) return false; continue; }
    const ok = vals.some((v) => {
      switch (k) {
        case 'status': return c.State.Status === v;
        case 'name': try { return new RegExp(v).test(c.Name) || new RegExp(v).test(`/${c.Name}`); } catch { return c.Name.includes(v); }
        case 'id': return c.Id.startsWith(v);
        case 'network': return Object.entries(c.Networks ?? {}).some(([name, e]) => name === v || e.NetworkID.startsWith(v));
        case 'ancestor': {
          const img = d.images.resolve(v);
          return (img && img.id === c.Image) || c.Config.Image === v || d.normalizeRef(c.Config.Image ?? '') === d.normalizeRef(v);
        }
        case 'exited': return c.State.Status === 'exited' && String(c.State.ExitCode) === v;
        case 'health': return (c.State.Health?.Status ?? 'none') === v;
        case 'before': { const o = d.store.find(v); return !!o && Date.parse(c.Created) < Date.parse(o.Created); }
        case 'since': { const o = d.store.find(v); return !!o && Date.parse(c.Created) > Date.parse(o.Created); }
        // the container port, as the container publishes or exposes it
        case 'publish': return portKeys(v).some((p) => Object.hasOwn((c.HostConfig.PortBindings ?? {}) as object, p));
        case 'expose': return portKeys(v).some((p) => Object.hasOwn(c.Config.ExposedPorts ?? {}, p));
        case 'volume': return (c.Mounts ?? []).some((m) => m.Name === v || m.Destination === v);
        // no swarm here: no container is a task
        case 'is-task': return v === 'false' || v === '0';
        default: throw badRequest(`invalid filter '${k}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}

