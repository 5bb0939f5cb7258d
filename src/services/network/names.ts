// What the embedded DNS knows: for each network, the names of the containers on it (name, short ID, aliases,
// hostname) and their addresses there. A container resolves the names of every network it is on, and nothing
// of the networks it is not on; other names go to its --dns servers, else the host's.
import { readFileSync, statSync } from 'node:fs';
import type { DnsRecords } from './dns.js';
import { parseResolvConf } from '../../util/resolvconf.js';

interface Member { name: string; names: string[]; dns: string[]; addrs: Map<string, string> /* network ID → ip */ }

export class NameIndex implements DnsRecords {
  private members = new Map<string, Member>();
  private byIp = new Map<string, string>();
  /** network ID → name → addresses */
  private nets = new Map<string, Map<string, Set<string>>>();
  private host = { mtime: -1, checked: 0, nameservers: [] as string[], search: [] as string[], options: [] as string[] };

  constructor(private readonly resolvConf = '/etc/resolv.conf') {}

  /** A container's address on a network, and the names it answers to there. */
  add(id: string, c: { name: string; hostname?: string; dns?: string[] }, networkId: string, ip: string, aliases: string[] = []): void {
    const m = this.members.get(id) ?? { name: c.name, names: [], dns: c.dns ?? [], addrs: new Map() };
    this.members.set(id, m);
    m.addrs.set(networkId, ip);
    this.byIp.set(ip, id);
    const names = [...new Set([c.name, id.slice(0, 12), ...aliases, ...(c.hostname ? [c.hostname] : [])].map((n) => n.toLowerCase()))];
    const table = this.nets.get(networkId) ?? new Map<string, Set<string>>();
    this.nets.set(networkId, table);
    for (const n of names) {
      const set = table.get(n) ?? new Set<string>();
      set.add(ip);
      table.set(n, set);
    }
    m.names = names;
  }

  /** Forget a container on one network, or everywhere. */
  remove(id: string, networkId?: string): void {
    const m = this.members.get(id);
    if (!m) return;
    for (const [net, ip] of [...m.addrs]) {
      if (networkId && net !== networkId) continue;
      const table = this.nets.get(net);
      for (const [n, set] of table ?? []) {
        set.delete(ip);
        if (set.size === 0) table?.delete(n);
      }
      if (this.byIp.get(ip) === id) this.byIp.delete(ip);
      m.addrs.delete(net);
    }
    if (m.addrs.size === 0) this.members.delete(id);
  }

  lookup(clientIp: string, name: string): string[] | undefined {
    const m = this.members.get(this.byIp.get(clientIp) ?? '');
    if (!m) return undefined;
    const out = new Set<string>();
    for (const net of m.addrs.keys()) for (const ip of this.nets.get(net)?.get(name) ?? []) out.add(ip);
    return out.size ? [...out] : undefined;
  }

  reverse(clientIp: string, ip: string): string | undefined {
    const client = this.members.get(this.byIp.get(clientIp) ?? '');
    const target = this.members.get(this.byIp.get(ip) ?? '');
    if (!client || !target) return undefined;
    const shared = [...target.addrs].some(([net, addr]) => addr === ip && client.addrs.has(net));
    return shared ? target.name : undefined;
  }

  upstreams(clientIp: string): string[] {
    const m = this.members.get(this.byIp.get(clientIp) ?? '');
    return m?.dns.length ? m.dns : this.hostResolvers().nameservers;
  }

  /** The host's resolv.conf, re-read when it changes (checked at most once a second). */
  hostResolvers(): { nameservers: string[]; search: string[]; options: string[] } {
    const now = Date.now();
    if (now - this.host.checked > 1000) {
      this.host.checked = now;
      try {
        const mtime = statSync(this.resolvConf).mtimeMs;
        if (mtime !== this.host.mtime) Object.assign(this.host, parseResolvConf(readFileSync(this.resolvConf, 'utf8')), { mtime });
      } catch { /* no resolv.conf: nothing to forward to */ }
    }
    return this.host;
  }
}
