// Which network a container joins by its NetworkMode, and the NetworkSettings docker shows for it.
// default/bridge: the bridge network; host: the host's namespace; none: a namespace with loopback only.
import type { ContainerRecord, NetworkState } from '../containers/types.js';
import type { NetworkAttacher } from '../containers/supervisor.js';
import type { BridgeNetwork } from './bridge.js';
import type { PortBindings } from './ports.js';

export class ContainerNetworks implements NetworkAttacher {
  constructor(private readonly bridge: BridgeNetwork) {}

  async attach(rec: ContainerRecord): Promise<NetworkState | undefined> {
    const mode = rec.HostConfig.NetworkMode ?? 'default';
    if (mode !== 'default' && mode !== 'bridge') return undefined;
    const bindings: PortBindings = { ...((rec.HostConfig.PortBindings as PortBindings | null | undefined) ?? {}) };
    // -P: every exposed port that has no binding gets a free host port
    if (rec.HostConfig.PublishAllPorts) for (const p of Object.keys(rec.Config.ExposedPorts ?? {})) bindings[p] ??= [{ HostIp: '', HostPort: '' }];
    const ep = await this.bridge.attach(rec.Id, bindings);
    const ports: NetworkState['Ports'] = {};
    for (const m of ep.ports) (ports[`${m.containerPort}/${m.protocol}`] ??= []).push({ HostIp: m.hostIP || '0.0.0.0', HostPort: String(m.hostPort) });
    return { Network: this.bridge.name, IPAddress: ep.ip, IPPrefixLen: ep.prefixLen, Gateway: ep.gateway, MacAddress: ep.mac, SandboxKey: ep.netns, Ports: ports };
  }

  async detach(rec: ContainerRecord): Promise<void> {
    await this.bridge.detach(rec.Id);
  }
}
