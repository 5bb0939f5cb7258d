// Published ports: `-p` bindings turned into CNI portmap entries. A host port is free when no other container
// of ours holds it and the host itself can still bind it; "0"/"" picks a free one from the ephemeral range.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { ApiError, badRequest } from '../../util/errors.js';

export interface PortBinding { HostIp?: string; HostPort?: string }
export type PortBindings = Record<string, PortBinding[] | null>;
export interface PortMapping { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp' | 'sctp'; hostIP: string }

const RANGE = { lo: 32768, hi: 60999 };

/** Can the host bind this port now? (A listening program or another engine holds it otherwise.) */
function hostCanBind(port: number, ip: string, protocol: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      s.once('error', () => { s.close(); resolve(false); });
      s.bind(port, ip || undefined, () => { s.close(); resolve(true); });
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: ip || '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export function parseBindings(bindings: PortBindings | null | undefined): Array<{ containerPort: number; protocol: PortMapping['protocol']; hostIP: string; hostPort: number }> {
  const out: Array<{ containerPort: number; protocol: PortMapping['protocol']; hostIP: string; hostPort: number }> = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m) throw badRequest(`invalid port specification: "${key}"`);
    const containerPort = Number(m[1]);
    if (containerPort < 1 || containerPort > 65535) throw badRequest(`invalid port specification: "${key}"`);
    for (const b of list ?? [{}]) {
      const hp = (b.HostPort ?? '').trim();
      const hostPort = hp === '' ? 0 : Number(hp);
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw badRequest(`invalid port specification: "${hp}"`);
      const hostIP = (b.HostIp ?? '').trim();
      if (hostIP && !/^(\d{1,3}\.){3}\d{1,3}$/.test(hostIP)) throw badRequest(`invalid IP address: ${hostIP}`);
      out.push({ containerPort, protocol: (m[2] ?? 'tcp') as PortMapping['protocol'], hostIP: hostIP === '0.0.0.0' ? '' : hostIP, hostPort });
    }
  }
  return out;
}

export class PortAllocator {
  /** "tcp/ip/port" → container ID. */
  private held = new Map<string, string>();

  private key(p: { protocol: string; hostIP: string; hostPort: number }): string { return `${p.protocol}/${p.hostIP}/${p.hostPort}`; }

  private clashes(p: { protocol: string; hostIP: string; hostPort: number }, id: string): boolean {
    for (const [k, owner] of this.held) {
      if (owner === id) continue;
      const [proto, ip, port] = k.split('/');
      if (proto === p.protocol && Number(port) === p.hostPort && (ip === '' || p.hostIP === '' || ip === p.hostIP)) return true;
    }
    return false;
  }

  /** Reserve every binding for `id`; all or nothing. */
  async reserve(id: string, bindings: PortBindings | null | undefined): Promise<PortMapping[]> {
    const wanted = parseBindings(bindings);
    const got: PortMapping[] = [];
    try {
      for (const w of wanted) {
        let port = w.hostPort;
        if (port === 0) {
          for (let tries = 0; tries < 200 && port === 0; tries++) {
            const candidate = RANGE.lo + Math.floor(Math.random() * (RANGE.hi - RANGE.lo));
            const c = { ...w, hostPort: candidate };
            if (!this.clashes(c, id) && await hostCanBind(candidate, w.hostIP, w.protocol)) port = candidate;
          }
          if (port === 0) throw new ApiError(500, 'no free host port left to publish on');
        } else if (this.clashes({ ...w, hostPort: port }, id) || !(await hostCanBind(port, w.hostIP, w.protocol))) {
          throw new ApiError(500, `driver failed programming external connectivity: Bind for ${w.hostIP || '0.0.0.0'}:${port} failed: port is already allocated`);
        }
        const m: PortMapping = { hostPort: port, containerPort: w.containerPort, protocol: w.protocol, hostIP: w.hostIP };
        this.held.set(this.key(m), id);
        got.push(m);
      }
      return got;
    } catch (e) {
      this.release(id);
      throw e;
    }
  }

  /** Take back what a running container held (after a daemon restart). */
  adopt(id: string, mappings: PortMapping[]): void { for (const m of mappings) this.held.set(this.key(m), id); }

  release(id: string): void { for (const [k, owner] of this.held) if (owner === id) this.held.delete(k); }
}
