// IPv4 subnets: --bip for the default bridge (docker's "gateway/prefix"), and for networks without --subnet the
// first subnet of the address pools that overlaps none of the host's routes, none of our networks (nor docker's
// 172.17.0.0/16).
import { execFileSync } from 'node:child_process';

export const toInt = (ip: string) => ip.split('.').reduce((a, o) => ((a << 8) >>> 0) + Number(o), 0) >>> 0;
export const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

export interface Subnet { subnet: string; gateway: string }

export function parseCidr(cidr: string): { base: number; bits: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m[1].split('.').some((o) => Number(o) > 255) || Number(m[2]) > 32) throw new Error(`invalid CIDR address: ${cidr}`);
  const bits = Number(m[2]);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (toInt(m[1]) & mask) >>> 0, bits };
}

export function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const bits = Math.min(x.bits, y.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((x.base & mask) >>> 0) === ((y.base & mask) >>> 0);
}

/** "10.88.0.1/16" → subnet 10.88.0.0/16, gateway 10.88.0.1 (docker's --bip). */
export function fromBip(bip: string): Subnet {
  const [ip, bits] = bip.split('/');
  const { base } = parseCidr(bip);
  if (toInt(ip) === base) throw new Error(`--bip needs the gateway's address inside the subnet, e.g. ${toIp(base + 1)}/${bits}`);
  return { subnet: `${toIp(base)}/${bits}`, gateway: ip };
}

export function hostRoutes(): string[] {
  try {
    return execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).split('\n')
      .map((l) => l.trim().split(/\s+/)[0]).filter((d) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(d)).map((d) => (d.includes('/') ? d : `${d}/32`));
  } catch { return []; }
}

/** docker's default-address-pools entry: subnets of `size` bits carved from `base`. */
export interface AddressPool { base: string; size: number }

// not podman's 10.88.0.0/16 (its bridge appears only with its first container), nor docker's 172.17.0.0/12
export const DEFAULT_POOLS: AddressPool[] = [{ base: '10.120.0.0/13', size: 16 }, { base: '10.128.0.0/12', size: 16 }];

export function parsePool(p: Record<string, unknown>): AddressPool {
  const base = String(p.base ?? '');
  const size = Number(p.size);
  const { bits } = parseCidr(base);
  if (!Number.isInteger(size) || size < bits || size > 30) throw new Error(`invalid address pool ${JSON.stringify(p)}: size must be between the base's prefix (${bits}) and 30`);
  return { base, size };
}

/** The first pool subnet overlapping nothing taken; its gateway is the first address. */
export function chooseSubnet(taken: string[], pools: AddressPool[] = DEFAULT_POOLS): Subnet {
  const avoid = [...taken, '172.17.0.0/16'];
  for (const pool of pools) {
    const { base, bits } = parseCidr(pool.base);
    const count = 2 ** (pool.size - bits);
    for (let i = 0; i < count; i++) {
      const start = (base + i * 2 ** (32 - pool.size)) >>> 0;
      const subnet = `${toIp(start)}/${pool.size}`;
      if (!avoid.some((r) => overlaps(r, subnet))) return { subnet, gateway: toIp(start + 1) };
    }
  }
  throw new Error(`could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network`);
}

/** Is the address inside the subnet? */
export function contains(subnet: string, ip: string): boolean {
  const { base, bits } = parseCidr(subnet);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === base;
}

export const isIPv4 = (s: string) => /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255);

/** The address an existing bridge already has (a previous daemon's, with containers maybe still on it). */
export function bridgeAddress(bridge: string): Subnet | undefined {
  try {
    const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(out);
    return m ? fromBip(m[1]) : undefined;
  } catch { return undefined; }
}
