// Projections of container records into the Engine API's JSON shapes (inspect and list).
import type { ContainerRecord } from '../../services/containers/types.js';
import { humanDuration } from '../../util/units.js';
import { join } from 'node:path';

const ZERO = '0001-01-01T00:00:00Z';

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  const ago = (iso: string) => humanDuration(Math.max(0, (now - Date.parse(iso)) / 1000));
  switch (s.Status) {
    case 'running': return `Up ${ago(s.StartedAt)}${healthSuffix(rec)}`;
    case 'paused': return `Up ${ago(s.StartedAt)} (Paused)`;
    case 'restarting': return `Restarting (${s.ExitCode}) ${ago(s.FinishedAt)} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    case 'exited': return s.FinishedAt === ZERO ? 'Created' : `Exited (${s.ExitCode}) ${ago(s.FinishedAt)} ago`;
    default: return 'Created';
  }
}

/** ps's health note: " (healthy)", " (unhealthy)", " (health: starting)". */
function healthSuffix(rec: ContainerRecord): string {
  const h = rec.State.Health;
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

export function commandLine(rec: ContainerRecord): string {
  return [rec.Path, ...rec.Args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
}

export function inspectView(rec: ContainerRecord, dir: string, extra: { lowerDirs: string[]; sizeRw?: number; sizeRootFs?: number }) {
  const s = rec.State;
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: {
      Status: s.Status,
      Running: s.Status === 'running' || s.Status === 'paused',
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: rec.Image,
    ResolvConfPath: join(dir, 'resolv.conf'),
    HostnamePath: join(dir, 'hostname'),
    HostsPath: join(dir, 'hosts'),
    LogPath: rec.LogPath,
    Name: `/${rec.Name}`,
    RestartCount: rec.RestartCount,
    Driver: rec.Driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: rec.HostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: { LowerDir: extra.lowerDirs.join(':'), UpperDir: join(dir, 'diff'), WorkDir: join(dir, 'work'), MergedDir: join(dir, 'rootfs') },
    },
    ...(extra.sizeRw !== undefined ? { SizeRw: extra.sizeRw, SizeRootFs: extra.sizeRootFs } : {}),
    Mounts: mountsView(rec),
    Config: rec.Config,
    NetworkSettings: networkSettings(rec),
  };
}

/** docker's NetworkSettings: one entry per network it belongs to, live addresses while running; the top-level
 *  address fields describe the default bridge only, as docker's do. */
function networkSettings(rec: ContainerRecord) {
  const n = rec.NetworkSettings;
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const p of Object.keys(rec.Config.ExposedPorts ?? {})) ports[p] = null;
  for (const [p, b] of Object.entries(n?.Ports ?? {})) ports[p] = b;
  const networks = endpoints(rec);
  const bridge = networks.bridge;
  return {
    Bridge: '', SandboxID: '', SandboxKey: n?.SandboxKey ?? '', Ports: ports, HairpinMode: false,
    LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: bridge?.EndpointID ?? '', Gateway: bridge?.Gateway ?? '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: bridge?.IPAddress ?? '', IPPrefixLen: bridge?.IPPrefixLen ?? 0, IPv6Gateway: '', MacAddress: bridge?.MacAddress ?? '',
    Networks: networks,
  };
}

/** Per network: what the container asked (aliases, address) and, while running, what it got. */
function endpoints(rec: ContainerRecord): Record<string, ReturnType<typeof emptyEndpoint>> {
  const mode = rec.HostConfig.NetworkMode ?? 'default';
  if (mode.startsWith('container:')) return {};
  const cfgs = rec.Networks ?? { [mode === 'default' ? 'bridge' : mode]: { NetworkID: '' } };
  const out: Record<string, ReturnType<typeof emptyEndpoint>> = {};
  for (const [name, cfg] of Object.entries(cfgs)) {
    const live = rec.NetworkSettings?.Endpoints?.[name];
    const dnsNames = name === 'host' || name === 'none' ? null : [...new Set([rec.Name, ...(cfg.Aliases ?? []), rec.Id.slice(0, 12), ...(rec.Config.Hostname ? [rec.Config.Hostname] : [])])];
    out[name] = {
      ...emptyEndpoint(),
      IPAMConfig: cfg.IPv4Address ? { IPv4Address: cfg.IPv4Address } : null,
      Aliases: cfg.Aliases?.length ? cfg.Aliases : null,
      NetworkID: cfg.NetworkID,
      ...(live ? { EndpointID: live.EndpointID, Gateway: live.Gateway, IPAddress: live.IPAddress, IPPrefixLen: live.IPPrefixLen, MacAddress: live.MacAddress } : {}),
      DNSNames: dnsNames,
    };
  }
  return out;
}

/** docker's Mounts: volumes with their name and driver, bind mounts with their propagation, tmpfs. */
function mountsView(rec: ContainerRecord) {
  return (rec.Mounts ?? []).map((m) => ({
    Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination,
    ...(m.Driver ? { Driver: m.Driver } : {}), Mode: m.Mode, RW: m.RW, Propagation: m.Propagation,
  }));
}

/** ps's Ports: published ones with their host side, exposed ones alone. */
function portList(rec: ContainerRecord): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  const published = rec.NetworkSettings?.Ports ?? {};
  for (const [p, binds] of Object.entries(published)) {
    const [port, type = 'tcp'] = p.split('/');
    for (const b of binds) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  for (const p of Object.keys(rec.Config.ExposedPorts ?? {})) {
    if (published[p]?.length) continue;
    const [port, type = 'tcp'] = p.split('/');
    out.push({ PrivatePort: Number(port), Type: type });
  }
  return out;
}

function emptyEndpoint() {
  return { IPAMConfig: null as { IPv4Address: string } | null, Links: null, Aliases: null as string[] | null, MacAddress: '', DriverOpts: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null as string[] | null };
}

export function summaryView(rec: ContainerRecord, imageName: string, size?: { rw: number; rootfs: number }) {
  return {
    Id: rec.Id,
    Names: [`/${rec.Name}`],
    Image: imageName,
    ImageID: rec.Image,
    Command: commandLine(rec),
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: portList(rec),
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: endpoints(rec) },
    Mounts: mountsView(rec),
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootfs } : {}),
  };
}
