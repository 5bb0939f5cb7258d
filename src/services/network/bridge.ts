// The default `bridge` network: each container gets its own network namespace (ip netns), a veth on the
// bridge with an address from host-local IPAM and its published ports (portmap), through CNI; outbound NAT
// and forwarding are rules of the network, added once. What an attachment made is written down before it is used, so DEL can undo it after any crash.
import { execFile } from 'node:child_process';
import { promises as fs, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { ApiError, errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';
import type { CniResult, CniRunner, ConfList } from './cni.js';
import type { PortAllocator, PortBindings, PortMapping } from './ports.js';
import { ensureNetworkRules } from './rules.js';

const execFileP = promisify(execFile);

export interface BridgeConfig {
  /** Linux bridge device, e.g. tug0. */
  bridge: string;
  /** e.g. 10.88.0.0/16 */
  subnet: string;
  gateway: string;
  /** <data-root>/network */
  dataDir: string;
}

export interface Endpoint {
  netns: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  ports: PortMapping[];
}

interface Saved { netns: string; ports: PortMapping[]; result?: CniResult }

const netnsName = (id: string) => `tug-${id.slice(0, 16)}`;

export class BridgeNetwork {
  constructor(private readonly cfg: BridgeConfig, private readonly cni: CniRunner, private readonly ports: PortAllocator) {
    mkdirSync(join(cfg.dataDir, 'endpoints'), { recursive: true, mode: 0o700 });
  }

  get name(): string { return 'bridge'; }
  get subnet(): string { return this.cfg.subnet; }
  get gateway(): string { return this.cfg.gateway; }
  get bridge(): string { return this.cfg.bridge; }

  /** NAT and forwarding are the network's rules (rules.ts); per container only the veth, address and ports. */
  private conflist(withPorts: boolean): ConfList {
    return {
      cniVersion: '1.0.0',
      name: `tugboat-${this.cfg.bridge}`,
      plugins: [
        {
          type: 'bridge', bridge: this.cfg.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: this.cfg.subnet, gateway: this.cfg.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(this.cfg.dataDir, 'ipam') },
        },
        ...(withPorts ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
      ],
    };
  }

  /** The network's own rules; at daemon start, and again whenever an attachment finds them gone. */
  async ensureRules(): Promise<void> {
    await ensureNetworkRules(this.cfg.bridge, this.cfg.subnet);
  }

  private static loopback: ConfList = { cniVersion: '1.0.0', name: 'tugboat-lo', plugins: [{ type: 'loopback' }] };

  private savedPath(id: string): string { return join(this.cfg.dataDir, 'endpoints', `${id}.json`); }

  /** Namespace, address, NAT and ports for a container about to start. */
  async attach(id: string, bindings: PortBindings | null | undefined): Promise<Endpoint> {
    const name = netnsName(id);
    const netns = `/run/netns/${name}`;
    const ports = await this.ports.reserve(id, bindings);
    const saved: Saved = { netns, ports };
    await writeJsonAtomic(this.savedPath(id), saved);
    try {
      await execFileP('ip', ['netns', 'add', name]);
      await this.cni.add(BridgeNetwork.loopback, id, netns, 'lo');
      const runtimeConfig = { portMappings: ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIP })) };
      const result = await this.cni.add(this.conflist(ports.length > 0), id, netns, 'eth0', runtimeConfig);
      saved.result = result;
      await writeJsonAtomic(this.savedPath(id), saved);
      const ipc = result.ips?.[0];
      if (!ipc) throw new Error('the bridge plugin gave no address');
      const [ip, prefix] = ipc.address.split('/');
      const eth = result.interfaces?.find((i) => i.name === 'eth0' && i.sandbox);
      return { netns, ip, prefixLen: Number(prefix), gateway: ipc.gateway ?? this.cfg.gateway, mac: eth?.mac ?? '', ports };
    } catch (e) {
      await this.detach(id);
      throw new ApiError(500, `failed to set up the container network: ${errorMessage(e)}`);
    }
  }

  /** Undo an attachment (idempotent; a missing one is fine). */
  async detach(id: string): Promise<void> {
    const saved = await readJson<Saved>(this.savedPath(id)).catch(() => undefined);
    this.ports.release(id);
    if (!saved) return;
    const runtimeConfig = { portMappings: saved.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIP })) };
    // DEL must run even without a namespace left: NAT, port and firewall rules live in the host's tables
    const netns = existsSync(saved.netns) ? saved.netns : '';
    await this.cni.del(this.conflist(saved.ports.length > 0), id, netns, 'eth0', runtimeConfig, saved.result).catch((e: Error) => log.warn('network teardown', { id, error: e.message }));
    // loopback needs no DEL: it goes with the namespace
    if (netns) await execFileP('ip', ['netns', 'delete', netnsName(id)]).catch((e: Error) => log.warn('netns removal', { id, error: e.message }));
    await fs.rm(this.savedPath(id), { force: true });
  }

  /** After a restart: running containers keep their ports; endpoints of anything else are undone. */
  async reconcile(running: Set<string>): Promise<void> {
    for (const f of await fs.readdir(join(this.cfg.dataDir, 'endpoints'))) {
      const id = f.replace(/\.json$/, '');
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      if (running.has(id)) {
        const saved = await readJson<Saved>(this.savedPath(id)).catch(() => undefined);
        if (saved) this.ports.adopt(id, saved.ports);
        continue;
      }
      await this.detach(id);
    }
  }
}
