// /_ping, /version, /info, /events.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { Router, sendJson, qfilters, type Ctx } from '../router.js';
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
      Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: 'amd64', KernelVersion: os.release() } }],
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
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
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
    const f = qfilters(ctx.query);
    const since = Number(ctx.query.get('since') ?? 0);
    const until = Number(ctx.query.get('until') ?? 0);
    const match = (e: EngineEvent) => {
      if (f.type?.length && !f.type.includes(e.Type)) return false;
      if (f.event?.length && !f.event.includes(e.Action)) return false;
      if (f.container?.length && !(e.Type === 'container' && f.container.some((c) => e.Actor.ID.startsWith(c) || e.Actor.Attributes.name === c))) return false;
      if (f.label?.length && !f.label.every((l) => { const [k, v] = l.split('=', 2); return v === undefined ? k in e.Actor.Attributes : e.Actor.Attributes[k] === v; })) return false;
      return true;
    };
    const shape = (e: EngineEvent) => JSON.stringify({
      ...(e.Type === 'container' ? { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image } : {}),
      ...e,
    }) + '\n';
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    if (since) for (const e of d.events.history()) if (e.time >= since && (!until || e.time <= until) && match(e)) ctx.res.write(shape(e));
    if (until && until * 1000 <= Date.now()) { ctx.res.end(); return; }
    const off = d.events.subscribe((e) => { if (match(e)) ctx.res.write(shape(e)); });
    const timer = until ? setTimeout(() => { off(); ctx.res.end(); }, until * 1000 - Date.now()) : undefined;
    ctx.res.on('close', () => { off(); if (timer) clearTimeout(timer); });
  });
}
