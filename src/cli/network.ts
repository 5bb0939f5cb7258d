// `tug network …`: create, ls, inspect, rm, prune, connect, disconnect, as docker's CLI does them
// (its flags, request bodies, table columns and messages).
import type { Command } from 'commander';
import { isIP } from 'node:net';
import type { EndpointSettings, IPAMConfig, NetworkCreateBody, NetworkInfo } from '../client/types.js';
import { EngineError, isNotFound } from '../client/errors.js';
import { clientFor } from './connect.js';
import { confirm, parseFilters } from './container.js';
import { ExitError, FlagError } from './errors.js';
import { goTime, parseFormat, renderRows, truncId } from './format.js';
import { inspectEach } from './system.js';
import { err, out } from './output.js';


const flagErr = (value: string, flag: string, why: string) => new FlagError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

// ---- addresses ----

/** An IP address as a number; `v6` tells the family (128 bits, else 32). */
export interface Addr { n: bigint; v6: boolean }

/** Parse an IPv4 or IPv6 address (no zone), like Go's net.ParseIP; undefined when it is not one. */
export function parseAddr(s: string): Addr | undefined {
  const fam = isIP(s);
  if (fam === 4) return { n: s.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n), v6: false };
  if (fam !== 6 || s.includes('%')) return undefined;
  let str = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    const a = parseAddr(v4[1])!.n;
    str = `${str.slice(0, -v4[1].length)}${(a >> 16n).toString(16)}:${(a & 0xffffn).toString(16)}`;
  }
  const [head, rest] = str.split('::');
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  return { n: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), v6: true };
}

/** The canonical text of an address (Go's String(): dotted quad, or IPv6 with the longest zero run as "::"). */
export function formatAddr(a: Addr): string {
  if (!a.v6) return [24n, 16n, 8n, 0n].map((s) => String((a.n >> s) & 0xffn)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((a.n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export interface Cidr { addr: Addr; bits: number }

/** "10.1.0.0/16" → address and prefix length; undefined when it is not a CIDR (Go's net.ParseCIDR). */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const addr = m ? parseAddr(m[1]) : undefined;
  if (!m || !addr) return undefined;
  const bits = Number(m[2]);
  return bits <= (addr.v6 ? 128 : 32) ? { addr, bits } : undefined;
}

/** The network of a CIDR, masked: "10.1.2.3/16" → "10.1.0.0/16". */
export function maskedCidr(c: Cidr): string {
  const w = BigInt(c.addr.v6 ? 128 : 32);
  const host = w - BigInt(c.bits);
  return `${formatAddr({ n: (c.addr.n >> host) << host, v6: c.addr.v6 })}/${c.bits}`;
}

function cidrContains(c: Cidr, a: Addr): boolean {
  if (c.addr.v6 !== a.v6) return false;
  const host = BigInt((c.addr.v6 ? 128 : 32) - c.bits);
  return c.addr.n >> host === a.n >> host;
}

/** docker's subnetMatches: is `data` (an address, or the address of a CIDR) inside `subnet`? */
function subnetMatches(subnet: string, data: string): boolean {
  const s = parseCidr(subnet);
  if (!s) throw new Error(`invalid subnet: invalid CIDR address: ${subnet}`);
  const a = data.includes('/') ? parseCidr(data)?.addr : parseAddr(data);
  if (!a) throw new Error(`invalid CIDR address: ${data}`);
  return cidrContains(s, a);
}

// ---- key=value flags ----

/** `-o k=v` (docker's MapOpts): split at the first "="; a bare key has an empty value. */
export function parseKeyValues(list: string[] | undefined): Record<string, string> {
  const m: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) m[kv] = ''; else m[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return m;
}

/** `--label k[=v]`, validated like docker's ValidateLabel (a name, without whitespace). */
export function parseLabels(list: string[] | undefined, flag = '--label'): Record<string, string> {
  for (const l of list ?? []) {
    const key = l.split('=')[0].replace(/^[ \t]+/, '');
    if (!key) throw flagErr(l, flag, `invalid label '${l}': empty name`);
    if (/[ \t]/.test(key)) throw flagErr(l, flag, `label '${key}' contains whitespaces`);
  }
  return parseKeyValues(list);
}

/** pflag's slice flags take comma-separated values as well as repetitions. */
const commaList = (list: string[] | undefined) => (list ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');

// ---- create ----

export interface NetworkCreateFlags {
  driver?: string;
  opt?: string[];
  label?: string[];
  internal?: boolean;
  attachable?: boolean;
  ipv6?: boolean;
  ipamDriver?: string;
  ipamOpt?: string[];
  subnet?: string[];
  ipRange?: string[];
  gateway?: string[];
  auxAddress?: string[];
}

/** docker's createIPAMConfig: every --ip-range, --gateway and --aux-address placed in the one --subnet holding it. */
export function ipamConfig(f: Pick<NetworkCreateFlags, 'subnet' | 'ipRange' | 'gateway' | 'auxAddress'>): IPAMConfig[] {
  const subnets = commaList(f.subnet);
  const ranges = commaList(f.ipRange).map((r) => {
    const c = parseCidr(r);
    if (!c) throw flagErr(r, '--ip-range', `invalid string being converted to CIDR: ${r}`);
    return maskedCidr(c);
  });
  const gateways = commaList(f.gateway).map((g) => {
    const a = parseAddr(g);
    if (!a) throw flagErr(g, '--gateway', `invalid string being converted to IP address: ${g}`);
    return formatAddr(a);
  });
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const cfg = new Map<string, IPAMConfig>();
  for (const s of subnets) {
    for (const k of cfg.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    if (!parseCidr(s)) throw new Error(`invalid subnet: invalid CIDR address: ${s}`);
    cfg.set(s, { Subnet: s });
  }
  for (const r of ranges) {
    const s = subnets.find((x) => subnetMatches(x, r));
    if (!s) throw new Error(`no matching subnet for range ${r}`);
    const c = cfg.get(s)!;
    if (c.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${c.IPRange}) on the same subnet (${s})`);
    c.IPRange = r;
  }
  for (const g of gateways) {
    const s = subnets.find((x) => subnetMatches(x, g));
    if (!s) throw new Error(`no matching subnet for gateway ${g}`);
    const c = cfg.get(s)!;
    if (c.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${c.Gateway}) for the same subnet (${s})`);
    c.Gateway = g;
  }
  for (const [name, aa] of Object.entries(parseKeyValues(f.auxAddress))) {
    if (!aa) continue;
    const a = parseAddr(aa);
    if (!a) throw new Error(`ParseAddr("${aa}"): unable to parse IP`);
    const s = subnets.find((x) => subnetMatches(x, formatAddr(a)));
    if (!s) throw new Error(`no matching subnet for aux-address ${aa}`);
    const c = cfg.get(s)!;
    (c.AuxiliaryAddresses ??= {})[name] = aa;
  }
  return [...cfg.values()];
}

/** The POST /networks/create body for `tug network create NAME` and its flags. */
export function buildNetworkCreate(name: string, f: NetworkCreateFlags): NetworkCreateBody {
  const body: NetworkCreateBody = {
    Name: name,
    Driver: f.driver ?? 'bridge',
    Options: parseKeyValues(f.opt),
    IPAM: { Driver: f.ipamDriver ?? 'default', Config: ipamConfig(f), Options: parseKeyValues(f.ipamOpt) },
    Internal: !!f.internal,
    Attachable: !!f.attachable,
    Labels: parseLabels(f.label),
  };
  // like docker: only a flag given on the command line is sent; the daemon's default applies otherwise
  if (f.ipv6 !== undefined) body.EnableIPv6 = f.ipv6;
  return body;
}

export async function create(cmd: Command, name: string): Promise<void> {
  const body = buildNetworkCreate(name, cmd.opts() as NetworkCreateFlags);
  const r = await clientFor(cmd).networkCreate(body);
  if (r.Warning) err(`WARNING: ${r.Warning}\n`);
  out(`${r.Id}\n`);
}

// ---- ls ----

export const defaultNetworkTable = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export const networkHeaders: Record<string, unknown> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL',
  Labels: 'LABELS', CreatedAt: 'CREATED AT', Label: () => 'LABEL',
};

/** Go's time.Time String() of an RFC 3339 time, nanoseconds kept: "2024-05-01 10:11:12.123456789 +0000 UTC". */
function goTimeOf(rfc3339: string | undefined): string {
  if (!rfc3339) return '';
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return rfc3339;
  const frac = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(rfc3339)?.[1].replace(/0+$/, '') ?? '';
  const t = goTime(Math.floor(ms / 1000));
  return frac ? t.replace(/(\d{2}:\d{2}:\d{2})/, `$1.${frac}`) : t;
}

/** One `network ls` row: the fields docker's network templates know. */
export function networkRow(n: NetworkInfo, trunc: boolean): Record<string, unknown> {
  const labels = n.Labels ?? {};
  return {
    ID: trunc ? truncId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver ?? '',
    Scope: n.Scope ?? '',
    IPv4: String(n.EnableIPv4 ?? true), // API 1.44 has no EnableIPv4: every network has IPv4
    IPv6: String(!!n.EnableIPv6),
    Internal: String(!!n.Internal),
    Labels: Object.keys(labels).map((k) => `${k}=${labels[k]}`).sort().join(','),
    Label: (k: unknown) => labels[String(k)] ?? '',
    CreatedAt: goTimeOf(n.Created),
  };
}

/** sortorder.NaturalLess as a comparator: runs of digits compare as numbers ("net2" < "net10"). */
export function naturalCompare(a: string, b: string): number {
  const ca = a.match(/\d+|\D+/g) ?? [];
  const cb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i];
    const y = cb[i];
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const xs = x.replace(/^0+/, '');
      const ys = y.replace(/^0+/, '');
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

export async function ls(cmd: Command): Promise<void> {
  const o = cmd.opts() as { quiet?: boolean; trunc?: boolean; filter?: string[]; format?: string };
  const list = await clientFor(cmd).networkList(parseFilters(o.filter));
  list.sort((a, b) => naturalCompare(a.Name, b.Name));
  const trunc = o.trunc !== false;
  if (o.quiet && !o.format) {
    out(list.map((n) => `${trunc ? truncId(n.Id) : n.Id}\n`).join(''));
    return;
  }
  out(renderRows(parseFormat(o.format, defaultNetworkTable), list.map((n) => networkRow(n, trunc)), networkHeaders));
}

// ---- inspect ----

export async function inspect(cmd: Command, names: string[]): Promise<void> {
  const o = cmd.opts() as { format?: string; verbose?: boolean };
  const client = clientFor(cmd);
  await inspectEach(names, o.format, (n) => client.networkInspect(n, !!o.verbose));
}

// ---- rm / prune ----

export async function rm(cmd: Command, names: string[]): Promise<void> {
  const o = cmd.opts() as { force?: boolean };
  const client = clientFor(cmd);
  let failed = false;
  for (const n of names) {
    try {
      await client.networkRemove(n);
      out(`${n}\n`);
    } catch (e) {
      if (o.force && isNotFound(e)) continue; // -f: a network that does not exist is no error
      failed = true;
      err(e instanceof EngineError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  if (failed) throw new ExitError(1);
}

export const pruneWarning = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ';

export async function prune(cmd: Command): Promise<void> {
  const o = cmd.opts() as { force?: boolean; filter?: string[] };
  const filters = parseFilters(o.filter);
  if (!o.force && !(await confirm(pruneWarning))) return;
  const deleted = await clientFor(cmd).networkPrune(filters);
  if (deleted.length) out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
}

// ---- connect / disconnect ----

export interface ConnectFlags { alias?: string[]; ip?: string; ip6?: string; driverOpt?: string[]; link?: string[] }

/** The EndpointConfig `network connect` sends: aliases (comma lists allowed, as pflag does), addresses, driver options. */
export function buildEndpointConfig(f: ConnectFlags): EndpointSettings {
  const ep: EndpointSettings = {};
  const aliases = commaList(f.alias);
  if (aliases.length) ep.Aliases = aliases;
  if (f.link?.length) ep.Links = f.link;
  const ipam: NonNullable<EndpointSettings['IPAMConfig']> = {};
  if (f.ip !== undefined) {
    const a = parseAddr(f.ip.trim());
    if (!a) throw flagErr(f.ip, '--ip', `invalid string being converted to IP address: ${f.ip}`);
    ipam.IPv4Address = formatAddr(a);
  }
  if (f.ip6 !== undefined) {
    const a = parseAddr(f.ip6.trim());
    if (!a) throw flagErr(f.ip6, '--ip6', `invalid string being converted to IP address: ${f.ip6}`);
    ipam.IPv6Address = formatAddr(a);
  }
  if (Object.keys(ipam).length) ep.IPAMConfig = ipam;
  if (f.driverOpt?.length) {
    const opts: Record<string, string> = {};
    for (const kv of commaList(f.driverOpt)) {
      const i = kv.indexOf('=');
      if (i < 0 || !kv.slice(0, i).trim()) throw new Error('invalid key/value pair format in driver options');
      opts[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    ep.DriverOpts = opts;
  }
  return ep;
}

export async function connect(cmd: Command, network: string, container: string): Promise<void> {
  const ep = buildEndpointConfig(cmd.opts() as ConnectFlags);
  await clientFor(cmd).networkConnect(network, container, ep);
}

export async function disconnect(cmd: Command, network: string, container: string): Promise<void> {
  const o = cmd.opts() as { force?: boolean };
  await clientFor(cmd).networkDisconnect(network, container, !!o.force);
}
