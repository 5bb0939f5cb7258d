// /_ping, /version, /info, /events.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { Router, sendJson, qfilters, labelsMatch, type Ctx } from '../router.js';
import { badRequest } from '../../util/errors.js';
import { API_VERSION, MIN_API_VERSION, ENGINE_VERSION } from '../server.js';
import type { ContainerStore } from '../../services/containers/store.js';
import type { ImageService } from '../../services/images/types.js';
import type { EventBus, EngineEvent } from '../../services/events/bus.js';
import { cgroupLayout } from '../../sys/cgroups.js';

export interface SystemDeps {
  store: ContainerStore;
  images: ImageService;
  events: EventBus;
  dataRoot: string;
  runtimes: string[];
  defaultRuntime: string;
  daemonId: string;
  /** daemon.json's registry-mirrors and insecure-registries, shown by `docker info`. */
  registry: { mirrors: string[]; insecure: string[] };
}

/** docker info's RegistryConfig: the mirrors, insecure registries (CIDRs apart from names) and their index entries. */
function registryConfig(r: { mirrors: string[]; insecure: string[] }): Record<string, unknown> {
  const cidrs = r.insecure.filter((x) => x.includes('/'));
  const names = r.insecure.filter((x) => !x.includes('/'));
  const indexConfigs: Record<string, unknown> = { 'docker.io': { Name: 'docker.io', Mirrors: r.mirrors, Secure: true, Official: true } };
  for (const n of names) indexConfigs[n] = { Name: n, Mirrors: [], Secure: false, Official: false };
  return { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, IndexConfigs: indexConfigs, InsecureRegistryCIDRs: ['127.0.0.0/8', ...cidrs.filter((c) => c !== '127.0.0.0/8')], Mirrors: r.mirrors };
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m ? m[1] : 'Linux';
  } catch { return 'Linux'; }
}

export function registerSystemRoutes(r: Router, d: SystemDeps): void {
  const ping = (ctx: Ctx) => {
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '1', 'Content-Length': 2 });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  r.get(/^\/_ping$/, ping);
  r.head(/^\/_ping$/, ping);

  r.get(/^\/version$/, (ctx) => {
    const base = { Version: ENGINE_VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: 'tugboat', GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: 'amd64', KernelVersion: os.release(), BuildTime: '' };
    sendJson(ctx.res, 200, {
      Platform: { Name: 'tugboat' },
      Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: base.GitCommit, GoVersion: base.GoVersion, Os: 'linux', Arch: 'amd64', KernelVersion: os.release(), Experimental: 'false', BuildTime: '' } }],
      ...base,
    });
  });

  r.get(/^\/info$/, (ctx) => {
    const all = d.store.all();
    const count = (s: string) => all.filter((c) => c.State.Status === s).length;
    const layout = cgroupLayout();
    sendJson(ctx.res, 200, {
      ID: d.daemonId,
      Containers: all.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: all.length - count('running') - count('paused'),
      Images: d.images.list().length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'k8s-file'] },
      MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
      IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false, Debug: false,
      NFd: 0, OomKillDisable: layout !== 'v2', NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: layout === 'v2' ? '2' : '1',
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(d.registry),
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: d.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? '', NoProxy: process.env.NO_PROXY ?? '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: ENGINE_VERSION,
      Runtimes: Object.fromEntries(d.runtimes.map((n) => [n, { path: n }])),
      DefaultRuntime: d.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: 'tini',
      ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin', ...(layout === 'v2' ? ['name=cgroupns'] : [])],
      Warnings: [],
    });
  });

  r.get(/^\/events$/, (ctx) => {
    const match = eventMatcher(qfilters(ctx.query));
    const since = eventTime(ctx.query.get('since'), 'since');
    const until = eventTime(ctx.query.get('until'), 'until');
    const shape = (e: EngineEvent) => JSON.stringify({
      ...(e.Type === 'container' || e.Type === 'image' ? { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image } : {}),
      ...e,
    }) + '\n';
    const inWindow = (e: EngineEvent) => e.timeNano / 1e9 >= since && (!until || e.timeNano / 1e9 <= until);
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    // since=0 replays everything, as docker does (the epoch is not Go's zero time)
    if (ctx.query.get('since')) for (const e of d.events.history()) if (inWindow(e) && match(e)) ctx.res.write(shape(e));
    if (until && until * 1000 <= Date.now()) { ctx.res.end(); return; }
    const off = d.events.subscribe((e) => { if (match(e)) ctx.res.write(shape(e)); });
    const timer = until ? setTimeout(() => { off(); ctx.res.end(); }, until * 1000 - Date.now()) : undefined;
    ctx.res.on('close', () => { off(); if (timer) clearTimeout(timer); });
  });
}

const EVENT_FILTERS = ['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume'];
const EVENT_TYPES = ['container', 'image', 'volume', 'network', 'daemon', 'plugin', 'node', 'service', 'secret', 'config'];

/** `since`/`until`: unix seconds with optional fraction (what docker clients send), or an RFC 3339 date. */
function eventTime(v: string | null, name: string): number {
  if (!v) return 0;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid value for "${name}": ${v}: expected unix seconds or an RFC 3339 time`);
  return t / 1000;
}

/** docker's event filters: values of one key are alternatives, keys must all match. */
export function eventMatcher(f: Record<string, string[]>): (e: EngineEvent) => boolean {
  for (const k of Object.keys(f)) if (!EVENT_FILTERS.includes(k)) throw badRequest(`invalid filter '${k}'`);
  for (const t of f.type ?? []) if (!EVENT_TYPES.includes(t)) throw badRequest(`invalid filter 'type=${t}': unknown event type`);
  const anyOf = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key].some(test);
  const named = (e: EngineEvent, v: string) => e.Actor.ID === v || (v.length >= 1 && /^[0-9a-f]+$/.test(v) && e.Actor.ID.startsWith(v)) || e.Actor.Attributes.name === v;
  return (e) =>
    anyOf('type', (v) => e.Type === v) &&
    // "exec_start: sh -c …" and "health_status: healthy" match their part before the colon too
    anyOf('event', (v) => e.Action === v || e.Action.split(':', 1)[0] === v) &&
    anyOf('container', (v) => e.Type === 'container' && named(e, v)) &&
    anyOf('image', (v) => (e.Type === 'image' && named(e, v)) || e.Actor.Attributes.image === v || e.Actor.Attributes.image?.split(':')[0] === v) &&
    anyOf('network', (v) => e.Type === 'network' && named(e, v)) &&
    anyOf('volume', (v) => e.Type === 'volume' && named(e, v)) &&
    anyOf('daemon', (v) => e.Type === 'daemon' && named(e, v)) &&
    anyOf('scope', (v) => e.scope === v) &&
    // labels must all match, as docker's MatchKVList
    labelsMatch(e.Actor.Attributes, f.label ?? []) &&
    ['plugin', 'node', 'service', 'secret', 'config'].every((k) => !f[k]?.length);
}