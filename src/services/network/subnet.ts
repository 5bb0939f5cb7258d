// IPv4 subnets for the default bridge: --bip (docker's "gateway/prefix"), or the first candidate that overlaps
// none of the host's routes (nor docker's 172.17.0.0/16).
import { execFileSync } from 'node:child_process';

const toInt = (ip: string) => ip.split('.').reduce((a, o) => ((a << 8) >>> 0) + Number(o), 0) >>> 0;
const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

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

export function chooseSubnet(routes: string[]): Subnet {
  const taken = [...routes, '172.17.0.0/16'];
  for (let second = 88; second < 128; second++) {
    const subnet = `10.${second}.0.0/16`;
    if (!taken.some((r) => overlaps(r, subnet))) return { subnet, gateway: `10.${second}.0.1` };
  }
  throw new Error('no free subnet for the default bridge in 10.88.0.0/16–10.127.0.0/16: set one with --bip');
}

/** The address an existing bridge already has (a previous daemon's, with containers maybe still on it). */
export function bridgeAddress(bridge: string): Subnet | undefined {
  try {
    const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', bridge], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(out);
    return m ? fromBip(m[1]) : undefined;
  } catch { return undefined; }
}
