// The bridge driver for one network: its Linux bridge (made at create, so its subnet shows in the host's routes
// at once), its firewall rules, and links of containers made by the CNI bridge plugin with host-local IPAM and
// portmap. A Linux bridge takes at most 1024 ports: past `maxPorts` the network grows onto another bridge,
// joined to the first by a veth pair, so one subnet (and one gateway, on the first bridge) spans them all.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ApiError, errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';
import type { CniRunner, ConfList } from './cni.js';
import type { PortMapping } from './ports.js';
import { ensureRules, extraBridgeRules, networkRules, removeNetworkRules } from './rules.js';
import type { Link } from './sandbox.js';
import { BRIDGE_NAME_OPTION, type NetworkRecord } from './types.js';
import { runProgram } from '../../sys/spawn.js';

const ip = (args: string[]) => runProgram('ip', args);

export interface BridgeDriverOptions {
  /** <data-root>/network: host-local leases live under ipam/ */
  dataDir: string;
  maxPorts: number;
  /** The record changed (a bridge was added): persist it. */
  save(net: NetworkRecord): Promise<void>;
}

export interface Attachment { link: Link; ip: string; prefixLen: number; gateway: string; mac: string }

const MTU_OPTION = 'com.docker.network.driver.mtu';
const MASQ_OPTION = 'com.docker.network.bridge.enable_ip_masquerade';

/** Device name of a network's bridge: the option, else docker's br-<id>. */
export const bridgeNameFor = (net: Pick<NetworkRecord, 'Id' | 'Options'>) => net.Options[BRIDGE_NAME_OPTION] || `br-${net.Id.slice(0, 12)}`;

export class BridgeDriver {
  /** Ports in use per bridge device. */
  private used = new Map<string, number>();
  /** Bridges whose devices, links and rules are all in place. */
  private ready = new Set<string>();
  private growing?: Promise<void>;

  constructor(readonly net: NetworkRecord, private readonly cni: CniRunner, private readonly o: BridgeDriverOptions) {}

  get primary(): string { return this.net.Bridges[0]; }
  get subnet(): string { return this.net.IPAM.Config[0].Subnet; }
  get gateway(): string { return this.net.IPAM.Config[0].Gateway; }
  private get prefix(): string { return this.subnet.split('/')[1]; }
  private get mtu(): number | undefined { const m = Number(this.net.Options[MTU_OPTION]); return m > 0 ? m : undefined; }
  private get ipamName(): string { return `tugboat-${this.primary}`; }

  private rules() {
    return [
      ...networkRules(this.primary, this.subnet, { internal: this.net.Internal, masquerade: this.net.Options[MASQ_OPTION] !== 'false' }),
      ...this.net.Bridges.slice(1).flatMap((b) => extraBridgeRules(this.primary, b)),
    ];
  }

  private async exists(dev: string): Promise<boolean> {
    return fs.access(`/sys/class/net/${dev}`).then(() => true, () => false);
  }

  /** The first bridge with its gateway address, up; the extra bridges and their links; the rules. Idempotent. */
  async setUp(): Promise<void> {
    // a fixed MAC: a bridge otherwise takes its lowest port's, so the gateway's MAC would change under the
    // containers' ARP caches whenever one joins or leaves
    const mac = `02:75:${this.gateway.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`;
    if (!(await this.exists(this.primary))) {
      await ip(['link', 'add', 'name', this.primary, 'address', mac, ...(this.mtu ? ['mtu', String(this.mtu)] : []), 'type', 'bridge']);
    } else if ((await fs.readFile(`/sys/class/net/${this.primary}/address`, 'utf8')).trim() !== mac) {
      await ip(['link', 'set', this.primary, 'address', mac]);
    }
    const addr = `${this.gateway}/${this.prefix}`;
    const { stdout } = await ip(['-4', '-o', 'addr', 'show', 'dev', this.primary]);
    if (!stdout.includes(`inet ${addr} `)) await ip(['addr', 'add', addr, 'dev', this.primary]);
    await ip(['link', 'set', this.primary, 'up']);
    for (let i = 1; i < this.net.Bridges.length; i++) await this.joinExtra(i);
    await ensureRules(this.rules());
    for (const dev of this.net.Bridges) this.ready.add(dev);
  }

  /** Rules, devices and leases: all of it goes. */
  async tearDown(): Promise<void> {
    await removeNetworkRules(this.primary);
    for (let i = this.net.Bridges.length - 1; i >= 0; i--) {
      if (i > 0) await ip(['link', 'del', this.linkName(i, 'a')]).catch(() => undefined);
      await ip(['link', 'del', this.net.Bridges[i]]).catch(() => undefined);
    }
    await fs.rm(join(this.o.dataDir, 'ipam', this.ipamName), { recursive: true, force: true });
  }

  private linkName(i: number, end: 'a' | 'b'): string { return `tb${this.net.Id.slice(0, 8)}${end}${i}`; }

  /** Extra bridge i, joined to the first by a veth pair. */
  private async joinExtra(i: number, dev = this.net.Bridges[i]): Promise<void> {
    if (!(await this.exists(dev))) await ip(['link', 'add', 'name', dev, ...(this.mtu ? ['mtu', String(this.mtu)] : []), 'type', 'bridge']);
    const [a, b] = [this.linkName(i, 'a'), this.linkName(i, 'b')];
    if (!(await this.exists(a))) await ip(['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await ip(['link', 'set', a, 'master', this.primary, 'up']);
    await ip(['link', 'set', b, 'master', dev, 'up']);
    // no ARP of the host's own on it: the gateway must answer from the first bridge, where routing and NAT are
    await ip(['link', 'set', dev, 'arp', 'off', 'up']);
  }

  /** A bridge with a free port (among those fully set up), growing the network onto a new one when all are full. */
  private async bridgeWithRoom(): Promise<string> {
    // the first bridge also holds one port per extra bridge's link
    const room = (dev: string, i: number) => this.ready.has(dev) && (this.used.get(dev) ?? 0) + (i === 0 ? this.net.Bridges.length - 1 : 0) < this.o.maxPorts;
    for (;;) {
      const found = this.net.Bridges.find((dev, i) => room(dev, i));
      if (found) return found;
      this.growing ??= this.grow().finally(() => { this.growing = undefined; });
      await this.growing;
    }
  }

  private async grow(): Promise<void> {
    const i = this.net.Bridges.length;
    const dev = `tb${this.net.Id.slice(0, 8)}x${i}`;
    await this.joinExtra(i, dev);
    await ensureRules(extraBridgeRules(this.primary, dev));
    this.net.Bridges.push(dev);
    await this.o.save(this.net);
    this.ready.add(dev);
    log.info('network grew onto another bridge', { network: this.net.Name, bridge: dev });
  }

  private conflist(dev: string, withPorts: boolean, withIp: boolean, withMac: boolean): ConfList {
    const gatewayHere = dev === this.primary;
    return {
      cniVersion: '1.0.0',
      // one name for all bridges of the network: host-local keeps its leases by it
      name: this.ipamName,
      plugins: [
        {
          type: 'bridge', bridge: dev, isGateway: gatewayHere, ipMasq: false, hairpinMode: true, ...(this.mtu ? { mtu: this.mtu } : {}),
          ...(withIp || withMac ? { capabilities: { ...(withIp ? { ips: true } : {}), ...(withMac ? { mac: true } : {}) } } : {}),
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: this.subnet, gateway: this.gateway, ...(this.net.IPAM.Config[0].IPRange ? ipRangeBounds(this.net.IPAM.Config[0].IPRange) : {}) }]],
            // an internal network has no way out: no default route at all
            routes: this.net.Internal ? [] : [{ dst: '0.0.0.0/0' }],
            dataDir: join(this.o.dataDir, 'ipam'),
          },
        },
        ...(withPorts ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
      ],
    };
  }

  /** Link a container's namespace to this network as `ifname`, with a chosen address and published ports. */
  async connect(id: string, netns: string, ifname: string, req: { ip?: string; mac?: string; ports: PortMapping[] }, record: (link: Link) => Promise<void>): Promise<Attachment> {
    const dev = await this.bridgeWithRoom();
    this.used.set(dev, (this.used.get(dev) ?? 0) + 1);
    const runtimeConfig: Record<string, unknown> = {
      portMappings: req.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIP })),
      ...(req.ip ? { ips: [`${req.ip}/${this.prefix}`] } : {}),
      ...(req.mac ? { mac: req.mac } : {}),
    };
    const link: Link = { networkId: this.net.Id, ifname, bridge: dev, conflist: this.conflist(dev, req.ports.length > 0, !!req.ip, !!req.mac), runtimeConfig, ports: req.ports };
    await record(link);
    try {
      const result = await this.cni.add(link.conflist, id, netns, ifname, runtimeConfig);
      link.result = result;
      await record(link);
      const ipc = result.ips?.[0];
      if (!ipc) throw new Error('the bridge plugin gave no address');
      const [addr, prefix] = ipc.address.split('/');
      const eth = result.interfaces?.find((i) => i.name === ifname && i.sandbox);
      return { link, ip: addr, prefixLen: Number(prefix), gateway: this.gateway, mac: eth?.mac ?? '' };
    } catch (e) {
      await this.disconnect(id, netns, link);
      const msg = errorMessage(e);
      if (req.ip && /already|requested/i.test(msg)) throw new ApiError(403, `Address already in use: ${req.ip}`);
      throw new ApiError(500, `failed to set up the container network: ${msg}`);
    }
  }

  /** CNI DEL: runs even without a namespace left, since NAT, port and firewall rules live in the host's tables. */
  async disconnect(id: string, netns: string, link: Link): Promise<void> {
    await this.cni.del(link.conflist, id, netns, link.ifname, link.runtimeConfig, link.result).catch((e: Error) => log.warn('network teardown', { id, network: this.net.Name, error: e.message }));
    this.release(link);
  }

  /** Count a link that exists (after a restart) or forget one. */
  adopt(link: Link): void { this.used.set(link.bridge, (this.used.get(link.bridge) ?? 0) + 1); }
  private release(link: Link): void { this.used.set(link.bridge, Math.max(0, (this.used.get(link.bridge) ?? 1) - 1)); }
}

/** host-local's rangeStart/rangeEnd for docker's --ip-range. */
function ipRangeBounds(range: string): { rangeStart: string; rangeEnd: string } {
  const [base, bits] = range.split('/');
  const n = base.split('.').reduce((a, o) => ((a << 8) >>> 0) + Number(o), 0) >>> 0;
  const size = 2 ** (32 - Number(bits));
  const toIp = (x: number) => [24, 16, 8, 0].map((s) => (x >>> s) & 255).join('.');
  return { rangeStart: toIp(n + (size > 2 ? 1 : 0)), rangeEnd: toIp(n + size - (size > 2 ? 2 : 1)) };
}
