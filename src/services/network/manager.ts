// Networks and the containers on them: the predefined bridge/host/none and user-defined bridge networks;
// attaching a starting container to each network it belongs to (one namespace, eth0, eth1, …), connect and
// disconnect of created or running containers, names for the embedded DNS, and undoing what a crash left.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord, NetworkState } from '../containers/types.js';
import type { NetworkAttacher } from '../containers/supervisor.js';
import { ApiError, badRequest, conflict, errorMessage } from '../../util/errors.js';
import { newId } from '../../util/ids.js';
import { log } from '../../util/log.js';
import { BridgeDriver } from './bridge.js';
import type { CniRunner } from './cni.js';
import { networkRecordFrom, type NetworkCreateBody } from './create.js';
import type { NameIndex } from './names.js';
import type { PortAllocator, PortBindings } from './ports.js';
import { Sandboxes, type Link, type SandboxRecord } from './sandbox.js';
import { SandboxPool } from './pool.js';
import type { Attachment } from './bridge.js';
import type { NetworkStore } from './store.js';
import { contains, hostRoutes, isIPv4, type AddressPool, type Subnet } from './subnet.js';
import { BRIDGE_NAME_OPTION, type EndpointConfig, type EndpointRequest, type EndpointState, type NetworkRecord } from './types.js';
import { resolveCapabilities } from '../runtime/spec.js';

export interface ContainerLookup {
  all(): ContainerRecord[];
  find(ref: string): ContainerRecord | undefined;
  save(rec: ContainerRecord): Promise<void>;
}

export interface NetworkManagerDeps {
  dataDir: string;
  store: NetworkStore;
  cni: CniRunner;
  ports: PortAllocator;
  names: NameIndex;
  dns: { listen(ip: string): Promise<void>; close(ip: string): Promise<void> };
  events: { publish(type: 'network', action: string, id: string, attrs: Record<string, string>): void };
  containers: ContainerLookup;
  /** The default bridge network as configured (device, subnet), the pools for new ones, ports per bridge. */
  defaults: { bridge: string; subnet: Subnet; pools: AddressPool[]; maxPorts: number; premade: number };
}

const TEARDOWN_DELAY_MS = 100;

const isBridgeMode = (mode: string) => mode !== 'host' && mode !== 'none' && !mode.startsWith('container:');

export class NetworkManager implements NetworkAttacher {
  private drivers = new Map<string, BridgeDriver>();
  private sandboxes: Sandboxes;
  private pool: SandboxPool;
  /** Teardowns still running in the background, by container. */
  private pending = new Map<string, Promise<void>>();
  /** Gateways the embedded DNS serves. */
  private dnsOn = new Set<string>();

  constructor(private readonly d: NetworkManagerDeps) {
    this.sandboxes = new Sandboxes(join(d.dataDir, 'endpoints'));
    const premade = new Sandboxes(join(d.dataDir, 'pool'));
    this.pool = new SandboxPool({
      sandboxes: premade,
      size: d.defaults.premade,
      make: (net, id, sandbox) => this.connectLink(id, premade, sandbox, net, {}, 'eth0', []),
      undo: (id, sandbox) => this.undo(id, premade, sandbox),
    });
  }

  // ---- networks ----

  /** Load the records, (re)make the predefined ones from the configuration, set every bridge network up. */
  async init(): Promise<void> {
    await this.d.store.load();
    const pre = (name: string, driver: NetworkRecord['Driver']): NetworkRecord => {
      const old = this.d.store.all().find((n) => n.Predefined && n.Name === name);
      return { Id: old?.Id ?? newId(), Name: name, Created: old?.Created ?? new Date().toISOString(), Driver: driver, Internal: false, Attachable: false, IPAM: { Driver: 'default', Options: null, Config: [] }, Options: {}, Labels: {}, Bridges: [], Predefined: true };
    };
    const bridge = pre('bridge', 'bridge');
    const { bridge: dev, subnet } = this.d.defaults;
    bridge.IPAM.Config = [{ Subnet: subnet.subnet, Gateway: subnet.gateway }];
    bridge.Options = { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', [BRIDGE_NAME_OPTION]: dev, 'com.docker.network.driver.mtu': '1500' };
    const old = this.d.store.all().find((n) => n.Predefined && n.Name === 'bridge');
    // extra bridges it grew onto stay, unless the device itself changed
    bridge.Bridges = old?.Bridges[0] === dev ? old.Bridges : [dev];
    for (const n of [bridge, pre('host', 'host'), pre('none', 'null')]) await this.d.store.save(n);
    for (const n of this.d.store.all()) if (n.Driver === 'bridge') await this.setUp(n);
    await this.pool.undoLeftovers();
  }

  /** Start filling the pre-made namespaces (after reconcile: the drivers know which ports are taken). */
  warmUp(): void {
    for (const n of this.d.store.all()) if (n.Driver === 'bridge') this.pool.fill(n);
  }

  /** Daemon stop: background teardowns finish, pre-made namespaces go. */
  async shutdown(): Promise<void> {
    await Promise.all(this.pending.values());
    await this.pool.dropAll();
  }

  private driverFor(net: NetworkRecord): BridgeDriver {
    let drv = this.drivers.get(net.Id);
    if (!drv) {
      drv = new BridgeDriver(net, this.d.cni, { dataDir: this.d.dataDir, maxPorts: this.d.defaults.maxPorts, save: (n) => this.d.store.save(n) });
      this.drivers.set(net.Id, drv);
    }
    return drv;
  }

  private async setUp(net: NetworkRecord): Promise<void> {
    await this.driverFor(net).setUp();
    const gw = net.IPAM.Config[0]?.Gateway;
    if (!gw || this.dnsOn.has(gw)) return;
    try {
      await this.d.dns.listen(gw);
      this.dnsOn.add(gw);
    } catch (e) {
      log.warn('no embedded DNS on this network: its containers get the upstream resolvers instead', { network: net.Name, error: errorMessage(e) });
    }
  }

  list(): NetworkRecord[] { return this.d.store.all(); }
  get(ref: string): NetworkRecord { return this.d.store.get(ref); }

  async create(body: NetworkCreateBody): Promise<NetworkRecord> {
    const rec = networkRecordFrom(body, {
      existing: this.d.store.all(),
      hostRoutes: hostRoutes(),
      pools: this.d.defaults.pools,
      deviceExists: (name) => existsSync(`/sys/class/net/${name}`),
    });
    await this.d.store.save(rec);
    try {
      await this.setUp(rec);
    } catch (e) {
      await this.destroy(rec);
      throw new ApiError(500, `failed to create network ${rec.Name}: ${errorMessage(e)}`);
    }
    this.pool.fill(rec);
    this.d.events.publish('network', 'create', rec.Id, { name: rec.Name, type: rec.Driver });
    return rec;
  }

  /** Containers with a live endpoint on the network (docker's "active endpoints"). */
  activeOn(net: NetworkRecord): ContainerRecord[] {
    return this.d.containers.all().filter((c) => Object.values(c.NetworkSettings?.Endpoints ?? {}).some((e) => e.NetworkID === net.Id)
      || (net.Driver === 'host' && c.HostConfig.NetworkMode === 'host' && c.State.Pid > 0));
  }

  /** Containers that belong to the network, running or not. */
  membersOf(net: NetworkRecord): ContainerRecord[] {
    const active = new Set(this.activeOn(net));
    return this.d.containers.all().filter((c) => active.has(c) || Object.values(c.Networks ?? {}).some((e) => e.NetworkID === net.Id));
  }

  async remove(ref: string): Promise<void> {
    const net = this.d.store.get(ref);
    if (net.Predefined) throw new ApiError(403, `${net.Name} is a pre-defined network and cannot be removed`);
    const active = this.activeOn(net);
    if (active.length) throw new ApiError(403, `error while removing network: network ${net.Name} id ${net.Id} has active endpoints (${active.map((c) => `name:"${c.Name}" id:"${c.Id.slice(0, 12)}"`).join(', ')})`);
    await this.destroy(net);
    this.d.events.publish('network', 'destroy', net.Id, { name: net.Name, type: net.Driver });
  }

  private async destroy(net: NetworkRecord): Promise<void> {
    const gw = net.IPAM.Config[0]?.Gateway;
    if (gw && this.dnsOn.delete(gw)) await this.d.dns.close(gw);
    await this.pool.drop(net.Id);
    await this.driverFor(net).tearDown();
    this.drivers.delete(net.Id);
    await this.d.store.remove(net);
  }

  // ---- containers ----

  /** The networks a container belongs to, by name, resolved to records (in order: the first gets the ports). */
  private membership(rec: ContainerRecord, lenient = false): Array<{ name: string; net: NetworkRecord; cfg: EndpointConfig }> {
    const mode = rec.HostConfig.NetworkMode ?? 'default';
    // a record without its list (made before there was one) is on its mode's network; an empty list means the
    // container was disconnected from every network (docker-compose does so before connecting it with its aliases)
    const entries = Object.entries(rec.Networks ?? {});
    if (!rec.Networks && isBridgeMode(mode)) entries.push([mode === 'default' ? 'bridge' : mode, { NetworkID: '' }]);
    return entries.flatMap(([name, cfg]) => {
      const net = this.d.store.all().find((n) => n.Id === cfg.NetworkID) ?? this.d.store.find(name);
      if (!net && !lenient) throw new ApiError(404, `network ${name} not found`);
      return net ? [{ name: net.Name, net, cfg }] : [];
    });
  }

  /** At create: which networks, with docker's checks of mode, aliases and addresses. */
  resolveForCreate(mode: string, endpoints: Record<string, EndpointRequest | null> | undefined): Record<string, EndpointConfig> | undefined {
    if (mode.startsWith('container:')) {
      const ref = mode.slice('container:'.length);
      if (!ref || !this.d.containers.find(ref)) throw new ApiError(404, `No such container: ${ref}`);
      if (endpoints && Object.keys(endpoints).length) throw badRequest('conflicting options: networks and the network mode container:');
      return undefined;
    }
    if (mode === 'host' || mode === 'none') {
      const names = Object.keys(endpoints ?? {}).filter((n) => n !== mode);
      if (names.length) throw badRequest(`container cannot be connected to multiple networks with one of the networks in private (none) or host mode`);
      return { [mode]: { NetworkID: this.d.store.get(mode).Id } };
    }
    const primary = mode === 'default' ? 'bridge' : mode;
    const wanted = { [primary]: null, ...(endpoints ?? {}) };
    const out: Record<string, EndpointConfig> = {};
    for (const [name, ep] of Object.entries(wanted)) {
      const net = this.d.store.get(name === 'default' ? 'bridge' : name);
      if (net.Driver !== 'bridge') throw badRequest(`container cannot be connected to multiple networks with one of the networks in private (none) or host mode`);
      out[net.Name] = this.endpointConfig(net, ep ?? {});
    }
    return out;
  }

  private endpointConfig(net: NetworkRecord, ep: EndpointRequest): EndpointConfig {
    const aliases = ep.Aliases ?? undefined;
    const ip = ep.IPAMConfig?.IPv4Address;
    const mac = ep.MacAddress || undefined;
    if (mac && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw badRequest(`invalid MAC address: ${mac}`);
    if (aliases?.length && net.Predefined) throw badRequest('network-scoped alias is supported only for containers in user defined networks');
    if (ip) {
      if (net.Predefined) throw badRequest('user specified IP address is supported on user defined networks only');
      if (!isIPv4(ip)) throw badRequest(`invalid IPv4 address: ${ip}`);
      const cfg = net.IPAM.Config[0];
      if (!contains(cfg.IPRange ?? cfg.Subnet, ip)) throw badRequest(`no configured subnet or ip-range contain the IP address ${ip}`);
    }
    return { NetworkID: net.Id, ...(aliases?.length ? { Aliases: aliases } : {}), ...(ip ? { IPv4Address: ip } : {}), ...(mac ? { MacAddress: mac.toLowerCase() } : {}) };
  }

  private base(rec: ContainerRecord): NetworkState {
    const upstream = rec.HostConfig.Dns as string[] | undefined;
    return {
      SandboxKey: '', Ports: {}, Endpoints: {},
      Nameservers: upstream?.length ? upstream : this.d.names.hostResolvers().nameservers,
      HostGateway: this.d.defaults.subnet.gateway,
    };
  }

  async attach(rec: ContainerRecord): Promise<NetworkState> {
    const mode = rec.HostConfig.NetworkMode ?? 'default';
    const state = this.base(rec);
    if (mode === 'host' || mode === 'none') return state;
    if (mode.startsWith('container:')) {
      const ref = mode.slice('container:'.length);
      const other = this.d.containers.find(ref);
      if (!other || other.State.Status !== 'running' || !other.NetworkSettings) throw conflict(`cannot join network namespace of a non running container: ${other?.Id ?? ref}`);
      if (other.HostConfig.NetworkMode === 'host') throw badRequest('cannot share the network namespace of a container on the host network');
      return { ...other.NetworkSettings, Ports: {}, Endpoints: {}, SharedWith: other.Id };
    }
    await this.pending.get(rec.Id);
    const members = this.membership(rec);
    let sandbox: SandboxRecord | undefined;
    try {
      if (members.length === 0) {
        // disconnected from every network: a namespace of its own with loopback only, which `network connect` can join
        sandbox = await this.sandboxes.create(rec.Id);
        state.SandboxKey = sandbox.netns;
        return state;
      }
      const bindings: PortBindings = { ...((rec.HostConfig.PortBindings as PortBindings | null | undefined) ?? {}) };
      // -P: every exposed port without a binding gets a free host port
      if (rec.HostConfig.PublishAllPorts) for (const p of Object.keys(rec.Config.ExposedPorts ?? {})) bindings[p] ??= [{ HostIp: '', HostPort: '' }];
      const ports = await this.d.ports.reserve(rec.Id, bindings);
      for (const m of ports) (state.Ports[`${m.containerPort}/${m.protocol}`] ??= []).push({ HostIp: m.hostIP || '0.0.0.0', HostPort: String(m.hostPort) });
      // a pre-made namespace serves the first network when it needs no chosen address, no chosen MAC and no ports
      const warm = !members[0].cfg.IPv4Address && !members[0].cfg.MacAddress && ports.length === 0 ? this.pool.take(members[0].net) : undefined;
      if (warm) {
        sandbox = warm.sandbox;
        await this.pool.handOver(warm, members[0].net, this.sandboxes, rec.Id);
        state.Endpoints[members[0].name] = this.endpoint(rec, members[0].net, members[0].cfg, warm.attachment);
      } else {
        sandbox = await this.sandboxes.create(rec.Id);
      }
      state.SandboxKey = sandbox.netns;
      for (const [i, m] of members.entries()) {
        if (i === 0 && warm) continue;
        state.Endpoints[m.name] = this.endpoint(rec, m.net, m.cfg, await this.connectLink(rec.Id, this.sandboxes, sandbox, m.net, m.cfg, `eth${i}`, i === 0 ? ports : []));
      }
      const first = members[0].net.IPAM.Config[0].Gateway;
      if (this.dnsOn.has(first)) state.Nameservers = [first];
      for (const m of members) this.d.events.publish('network', 'connect', m.net.Id, { container: rec.Id, name: m.net.Name, type: m.net.Driver });
      return state;
    } catch (e) {
      await this.detach(rec);
      throw e;
    }
  }

  /** Link a namespace to a network, the link recorded (under `ownerId` in `store`) before and after CNI ADD. */
  private connectLink(ownerId: string, store: Sandboxes, sandbox: SandboxRecord, net: NetworkRecord, cfg: Partial<EndpointConfig>, ifname: string, ports: Awaited<ReturnType<PortAllocator['reserve']>>): Promise<Attachment> {
    return this.driverFor(net).connect(ownerId, sandbox.netns, ifname, { ip: cfg.IPv4Address, mac: cfg.MacAddress, ports }, async (link) => {
      if (store !== this.sandboxes) link.cniId = ownerId;
      const i = sandbox.links.findIndex((l) => l.ifname === link.ifname);
      if (i >= 0) sandbox.links[i] = link; else sandbox.links.push(link);
      await store.save(ownerId, sandbox);
    });
  }

  /** The endpoint docker shows, and the names the embedded DNS answers for it. */
  private endpoint(rec: ContainerRecord, net: NetworkRecord, cfg: EndpointConfig, a: Attachment): EndpointState {
    this.d.names.add(rec.Id, { name: rec.Name, hostname: rec.Config.Hostname, dns: rec.HostConfig.Dns as string[] | undefined }, net.Id, a.ip, cfg.Aliases);
    return { NetworkID: net.Id, EndpointID: newId(), IPAddress: a.ip, IPPrefixLen: a.prefixLen, Gateway: a.gateway, MacAddress: a.mac };
  }

  private async unlink(id: string, sandbox: SandboxRecord, link: Link): Promise<void> {
    const net = this.d.store.all().find((n) => n.Id === link.networkId);
    const netns = existsSync(sandbox.netns) ? sandbox.netns : '';
    const cniId = link.cniId ?? id;
    if (net) await this.driverFor(net).disconnect(cniId, netns, link);
    else await this.d.cni.del(link.conflist, cniId, netns, link.ifname, link.runtimeConfig, link.result).catch((e: Error) => log.warn('network teardown', { id, error: e.message }));
    this.d.names.remove(id, link.networkId);
  }

  /** Every link, then the namespace and its record. */
  private async undo(id: string, store: Sandboxes, sandbox: SandboxRecord): Promise<void> {
    for (const link of [...sandbox.links].reverse()) await this.unlink(id, sandbox, link);
    await store.remove(id, sandbox);
  }

  /**
   * Undo every link and the namespace (idempotent; nothing recorded is fine). Without published ports this runs in
   * the background (the container is gone from DNS at once, its record stays until done, so a crash still undoes
   * it); with ports it is awaited, so that a port is free only once its rules are.
   */
  async detach(rec: ContainerRecord): Promise<void> {
    // a second detach (the exit's, then removal's) finds the first one's teardown under way
    if (this.pending.has(rec.Id)) return;
    const sandbox = await this.sandboxes.read(rec.Id);
    this.d.names.remove(rec.Id);
    if (!sandbox) { this.d.ports.release(rec.Id); return; }
    for (const link of sandbox.links) {
      const net = this.d.store.all().find((n) => n.Id === link.networkId);
      if (net) this.d.events.publish('network', 'disconnect', net.Id, { container: rec.Id, name: net.Name, type: net.Driver });
    }
    if (sandbox.links.some((l) => l.ports.length)) {
      await this.undo(rec.Id, this.sandboxes, sandbox);
      this.d.ports.release(rec.Id);
      return;
    }
    this.d.ports.release(rec.Id);
    if (await this.pool.takeBack(rec.Id, this.sandboxes, this.unchangeable(rec, sandbox))) return;
    // a moment later: the exit's own work (unmount, removal, the client's answer) goes first
    const job = new Promise((r) => setTimeout(r, TEARDOWN_DELAY_MS)).then(() => this.undo(rec.Id, this.sandboxes, sandbox))
      .catch((e: unknown) => log.warn('network teardown', { id: rec.Id, error: errorMessage(e) }))
      .finally(() => { if (this.pending.get(rec.Id) === job) this.pending.delete(rec.Id); });
    this.pending.set(rec.Id, job);
  }

  /**
   * Whether a finished container's namespace is as it was made: one link, and nothing that ran in it could change
   * interfaces, routes, firewall or sysctls (no NET_ADMIN, which --privileged implies; no net.* sysctls), and
   * nothing runs in it any more (its own pid namespace, no running container sharing it).
   */
  private unchangeable(rec: ContainerRecord, sandbox: SandboxRecord): boolean {
    const h = rec.HostConfig;
    const netSysctl = Object.keys((h.Sysctls as Record<string, string> | null | undefined) ?? {}).some((k) => k.startsWith('net.'));
    const shared = this.d.containers.all().some((c) => c.NetworkSettings?.SharedWith === rec.Id);
    return sandbox.links.length === 1 && !resolveCapabilities(h).includes('CAP_NET_ADMIN') && !netSysctl && h.PidMode !== 'host' && !shared;
  }

  /** docker network connect: joins now when running, at the next start otherwise. */
  async connect(rec: ContainerRecord, ref: string, ep: EndpointRequest = {}): Promise<void> {
    const net = this.d.store.get(ref);
    const mode = rec.HostConfig.NetworkMode ?? 'default';
    if (!isBridgeMode(mode) || net.Driver !== 'bridge') {
      throw new ApiError(403, mode.startsWith('container:') ? 'container sharing network namespace with another container or host cannot be connected to any other network' : `container cannot be disconnected from host network or connected to host network`);
    }
    const members = this.membership(rec);
    if (members.some((m) => m.net.Id === net.Id)) throw new ApiError(403, `endpoint with name ${rec.Name} already exists in network ${net.Name}`);
    const cfg = this.endpointConfig(net, ep);
    const running = rec.NetworkSettings && (rec.State.Status === 'running' || rec.State.Status === 'paused');
    if (running && rec.NetworkSettings) {
      const sandbox = await this.sandboxes.read(rec.Id);
      if (!sandbox) throw new ApiError(500, `container ${rec.Name} has no network namespace to connect`);
      const used = new Set(sandbox.links.map((l) => l.ifname));
      let n = 0;
      while (used.has(`eth${n}`)) n++;
      rec.NetworkSettings.Endpoints[net.Name] = this.endpoint(rec, net, cfg, await this.connectLink(rec.Id, this.sandboxes, sandbox, net, cfg, `eth${n}`, []));
    }
    // the record lists every network it belongs to, the implicit first one too
    rec.Networks = { ...Object.fromEntries(members.map((m) => [m.name, { ...m.cfg, NetworkID: m.net.Id }])), [net.Name]: cfg };
    await this.d.containers.save(rec);
    this.d.events.publish('network', 'connect', net.Id, { container: rec.Id, name: net.Name, type: net.Driver });
  }

  async disconnect(rec: ContainerRecord, ref: string, force = false): Promise<void> {
    if (!isBridgeMode(rec.HostConfig.NetworkMode ?? 'default')) throw new ApiError(403, 'container cannot be disconnected from host network or connected to host network');
    const net = this.d.store.find(ref);
    if (!net && !force) throw new ApiError(404, `network ${ref} not found`);
    const members = this.membership(rec, true);
    const isMember = net && members.some((m) => m.net.Id === net.Id);
    if (!isMember && !force) throw new ApiError(403, `container ${rec.Id} is not connected to network ${net?.Name ?? ref}`);
    const netId = net?.Id ?? '';
    const sandbox = rec.NetworkSettings ? await this.sandboxes.read(rec.Id) : undefined;
    const link = sandbox?.links.find((l) => l.networkId === netId);
    if (sandbox && link) {
      await this.unlink(rec.Id, sandbox, link);
      if (link.ports.length) this.d.ports.release(rec.Id);
      sandbox.links = sandbox.links.filter((l) => l !== link);
      await this.sandboxes.save(rec.Id, sandbox);
    }
    if (rec.NetworkSettings) for (const [name, e] of Object.entries(rec.NetworkSettings.Endpoints)) if (e.NetworkID === netId) delete rec.NetworkSettings.Endpoints[name];
    rec.Networks = Object.fromEntries(members.filter((m) => m.net.Id !== netId).map((m) => [m.name, { ...m.cfg, NetworkID: m.net.Id }]));
    await this.d.containers.save(rec);
    if (net) this.d.events.publish('network', 'disconnect', net.Id, { container: rec.Id, name: net.Name, type: net.Driver });
  }

  /** A renamed container answers to its new name (its addresses stay). */
  renamed(rec: ContainerRecord): void {
    this.d.names.remove(rec.Id);
    for (const e of Object.values(rec.NetworkSettings?.Endpoints ?? {})) {
      const cfg = Object.values(rec.Networks ?? {}).find((c) => c.NetworkID === e.NetworkID);
      this.d.names.add(rec.Id, { name: rec.Name, hostname: rec.Config.Hostname, dns: rec.HostConfig.Dns as string[] | undefined }, e.NetworkID, e.IPAddress, cfg?.Aliases);
    }
  }

  /** After a restart: running containers keep their links (counted, ports held, names known); the rest is undone. */
  async reconcile(running: Set<string>): Promise<void> {
    for (const id of await this.sandboxes.ids()) {
      const sandbox = await this.sandboxes.read(id);
      if (!sandbox) continue;
      const rec = this.d.containers.find(id);
      if (running.has(id) && rec) {
        for (const link of sandbox.links) {
          const net = this.d.store.all().find((n) => n.Id === link.networkId);
          if (net) this.driverFor(net).adopt(link);
          this.d.ports.adopt(id, link.ports);
          const ip = link.result?.ips?.[0]?.address.split('/')[0];
          const cfg = Object.values(rec.Networks ?? {}).find((c) => c.NetworkID === link.networkId);
          if (ip) this.d.names.add(id, { name: rec.Name, hostname: rec.Config.Hostname, dns: rec.HostConfig.Dns as string[] | undefined }, link.networkId, ip, cfg?.Aliases);
        }
        continue;
      }
      await this.undo(id, this.sandboxes, sandbox);
    }
  }
}
