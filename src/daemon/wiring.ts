// Builds the services and the API router; every dependency is passed in here and nowhere else.
import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import { Router } from '../api/router.js';
import { registerSystemRoutes } from '../api/routes/system.js';
import { registerContainerRoutes } from '../api/routes/containers.js';
import { registerImageRoutes } from '../api/routes/images.js';
import { registerExecRoutes } from '../api/routes/exec.js';
import { registerStatsRoutes } from '../api/routes/stats.js';
import { registerCommitRoutes } from '../api/routes/commit.js';
import { registerArchiveRoutes } from '../api/routes/archive.js';
import { registerBuildRoutes } from '../api/routes/build.js';
import { BuildService } from '../services/build/service.js';
import { BuildCache } from '../services/build/cache.js';
import { LocalBuildEngine } from '../services/build/engine.js';
import { Committer } from '../services/containers/commit.js';
import { ExecManager } from '../services/containers/exec.js';
import { Puller } from '../services/images/pull.js';
import { CniRunner } from '../services/network/cni.js';
import { PortAllocator } from '../services/network/ports.js';
import { NetworkManager } from '../services/network/manager.js';
import { NetworkStore } from '../services/network/store.js';
import { NameIndex } from '../services/network/names.js';
import { EmbeddedDns } from '../services/network/dns.js';
import { registerNetworkRoutes } from '../api/routes/networks.js';
import { registerVolumeRoutes, volumesWithUsage } from '../api/routes/volumes.js';
import { VolumeStore } from '../services/volumes/store.js';
import { ContainerMounts } from '../services/volumes/mounts.js';
import { SizeCache } from '../util/size-cache.js';
import { bridgeAddress, chooseSubnet, fromBip, hostRoutes } from '../services/network/subnet.js';
import { Pusher } from '../services/images/push.js';
import { ImageArchives } from '../services/images/archive.js';
import { HealthMonitor } from '../services/containers/health.js';
import { ContainerSizes } from '../services/containers/sizes.js';
import { registerDiskUsageRoutes } from '../api/routes/disk-usage.js';
import { FileContentStore } from '../services/content/store.js';
import { DirSnapshotStore } from '../services/snapshots/store.js';
import { LocalImageService } from '../services/images/store.js';
import { normalizeReference } from '../services/images/reference.js';
import { ContainerStore } from '../services/containers/store.js';
import { Supervisor, cgroupsPathOf } from '../services/containers/supervisor.js';
import { ConmonDriver } from '../services/runtime/driver.js';
import { makeSpecWriter } from '../services/runtime/bundle.js';
import { EventBus } from '../services/events/bus.js';
import { containerCgroup, removeCgroup, swapAccounting } from '../sys/cgroups.js';
import { resources } from '../services/runtime/spec.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { newId } from '../util/ids.js';
import type { DaemonConfig } from './config.js';

export interface Engine {
  router: Router;
  supervisor: Supervisor;
  shutdown(): Promise<void>;
}

async function daemonId(root: string): Promise<string> {
  const path = join(root, 'engine-id');
  const existing = await readJson<{ id: string }>(path);
  if (existing) return existing.id;
  const id = newId().slice(0, 32);
  await writeJsonAtomic(path, { id });
  return id;
}

export async function buildEngine(cfg: DaemonConfig): Promise<Engine> {
  await fs.mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 });
  await fs.rm(join(cfg.dataRoot, 'tmp'), { recursive: true, force: true }); // half-read archives of a crashed daemon
  const events = new EventBus();
  const content = new FileContentStore(join(cfg.dataRoot, 'content'));
  const snapshots = new DirSnapshotStore(join(cfg.dataRoot, 'snapshots'));
  // what a killed daemon was writing is incomplete by definition: nothing under a final name is
  await content.cleanIngest();
  await snapshots.cleanTmp();
  const images = new LocalImageService({ root: join(cfg.dataRoot, 'images'), content, snapshots });
  await images.load();
  const store = new ContainerStore(join(cfg.dataRoot, 'containers'));
  const { orphans } = await store.load();
  const driver = new ConmonDriver({ conmon: cfg.conmon, runtimes: cfg.runtimes, execRoot: cfg.execRoot });
  await driver.init();
  // --bip, else what the bridge already has (a restart), else a subnet no route of the host covers
  const existing = bridgeAddress(cfg.network.bridge);
  const subnet = cfg.network.bip ? fromBip(cfg.network.bip) : existing ?? chooseSubnet(hostRoutes(), cfg.network.pools);
  if (existing && existing.gateway !== subnet.gateway) {
    throw new Error(`bridge ${cfg.network.bridge} already has the address ${existing.gateway} (${existing.subnet}): use --bip ${existing.gateway}/${existing.subnet.split('/')[1]}, another --bridge, or delete it (ip link del ${cfg.network.bridge})`);
  }
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(cfg.network.bridge)) throw new Error(`invalid bridge name: ${cfg.network.bridge}`);
  const names = new NameIndex();
  const dns = new EmbeddedDns(names);
  const networks = new NetworkManager({
    dataDir: join(cfg.dataRoot, 'network'),
    store: new NetworkStore(join(cfg.dataRoot, 'network', 'networks')),
    cni: new CniRunner(), ports: new PortAllocator(), names, dns, events,
    containers: { all: () => store.all(), find: (ref) => store.find(ref), save: (rec) => store.save(rec) },
    defaults: { bridge: cfg.network.bridge, subnet, pools: cfg.network.pools, maxPorts: cfg.network.bridgeMaxPorts, premade: cfg.network.premade },
  });
  await networks.init();
  const volumeSizes = new SizeCache();
  const volumes = new VolumeStore(join(cfg.dataRoot, 'volumes'), (name, action) => {
    volumeSizes.invalidate(name);
    events.publish('volume', action, name, { driver: 'local' });
  });
  await volumes.load();
  const mounts = new ContainerMounts({ volumes, containers: { all: () => store.all(), find: (ref) => store.find(ref) } });
  const supervisor = new Supervisor({
    network: networks,
    mounts,
    store, images, events, driver,
    writeSpec: makeSpecWriter(),
    cgroups: { remove: (p) => removeCgroup(p), pids: (p) => containerCgroup(p).pids(), oomKills: (p) => containerCgroup(p).oomKills() },
    logDefaults: cfg.logLimits,
    resources: (hc) => resources(hc, swapAccounting()),
  });
  const execs = new ExecManager({ store, driver, events });
  events.subscribe((e) => {
    if (e.Type !== 'container') return;
    if (e.Action === 'destroy') execs.forget(e.Actor.ID);
    const rec = e.Action === 'rename' ? store.find(e.Actor.ID) : undefined;
    if (rec) networks.renamed(rec);
  });
  const health = new HealthMonitor({ store, probes: execs, events });
  const sizes = new ContainerSizes({ upperDir: (rec) => supervisor.upperDir(rec), events });
  sizes.attach();
  health.attach();
  await supervisor.watchExits();
  supervisor.adoptUnrecordedStarts();
  // the network first, from the records as they were: endpoints of containers recorded as running are kept
  // (the supervisor detaches those that died meanwhile), the rest undone before restart policies attach anew
  await networks.reconcile(new Set(store.all().filter((c) => c.State.Status === 'running' || c.State.Status === 'paused').map((c) => c.Id)));
  await supervisor.reconcile(orphans);
  networks.warmUp();
  for (const rec of store.all()) {
    if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') continue;
    health.begin(rec, false);
    mounts.adopt(rec);
  }

  const router = new Router();
  const normalizeRef = (ref: string) => { try { return normalizeReference(ref); } catch { return ref; } };
  registerSystemRoutes(router, { store, images, events, dataRoot: cfg.dataRoot, runtimes: Object.keys(cfg.runtimes), defaultRuntime: cfg.defaultRuntime, daemonId: await daemonId(cfg.dataRoot), registry: cfg.registry });
  registerContainerRoutes(router, { store, supervisor, images, events, runtimes: Object.keys(cfg.runtimes), defaultRuntime: cfg.defaultRuntime, normalizeRef, sizes, networks, mounts });
  registerNetworkRoutes(router, { networks, store });
  // volume sizes are measured again when a container using the volume starts, stops or goes
  events.subscribe((e) => {
    if (e.Type !== 'container' || !['start', 'die', 'destroy'].includes(e.Action)) return;
    for (const m of store.find(e.Actor.ID)?.Mounts ?? []) if (m.Name) volumeSizes.invalidate(m.Name);
  });
  registerVolumeRoutes(router, { volumes, mounts, sizes: volumeSizes });
  const puller = new Puller({ images, content, snapshots, registry: cfg.registry });
  const buildCache = new BuildCache(join(cfg.dataRoot, 'builder', 'cache'));
  await buildCache.load();
  const imageInUse = (id: string) => store.all().find((c) => c.Image === id)?.Id;
  const builds = new BuildService({
    engine: new LocalBuildEngine({
      images, store, supervisor, networks, mounts, events, content, snapshots, runtimes: Object.keys(cfg.runtimes), defaultRuntime: cfg.defaultRuntime,
      pull: (ref, o) => puller.pull(ref, o),
      committer: new Committer({
        dir: (id) => store.dir(id), images, content, snapshots, events,
        pause: (rec) => supervisor.pause(rec), unpause: (rec) => supervisor.unpause(rec), attrs: (rec) => supervisor.attrs(rec),
      }),
    }),
    cache: buildCache,
    images: {
      list: () => images.list(),
      removeIfUnused: async (id) => {
        // by ID, rmi would also untag an image's only tag: what a user tagged is never the cache's to remove
        if (images.resolve(id)?.repoTags.length) return false;
        try { await images.remove(id, { force: false, noprune: true }, imageInUse); return true; } catch { return false; }
      },
    },
    tmpDir: join(cfg.dataRoot, 'tmp'),
  });
  registerBuildRoutes(router, { builds });
  registerDiskUsageRoutes(router, { store, images, sizes, volumes: () => volumesWithUsage({ volumes, mounts, sizes: volumeSizes }), buildCache: () => builds.usage() });
  registerExecRoutes(router, { store, execs });
  registerStatsRoutes(router, { store, cgroupOf: (rec) => containerCgroup(cgroupsPathOf(rec)) });
  registerCommitRoutes(router, { store, images, content, snapshots, events, supervisor, mntRoot: join(cfg.dataRoot, 'mnt') });
  registerArchiveRoutes(router, { store, supervisor, events });
  registerImageRoutes(router, {
    images,
    puller,
    pusher: new Pusher({ images, content, registry: cfg.registry }),
    archives: new ImageArchives({ images, content, snapshots, tmpDir: join(cfg.dataRoot, 'tmp') }),
    checkLogin: (server, creds) => puller.checkLogin(server, creds),
    imageInUse,
    events,
  });
  return { router, supervisor, shutdown: async () => { health.stopAll(); await supervisor.shutdown(); await networks.shutdown(); await dns.closeAll(); } };
}
