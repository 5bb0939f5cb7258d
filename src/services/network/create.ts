// POST /networks/create: docker's body checked and turned into a record, with docker's refusals.
import { ApiError, badRequest, conflict } from '../../util/errors.js';
import { newId, validName } from '../../util/ids.js';
import { chooseSubnet, contains, isIPv4, overlaps, parseCidr, toInt, toIp, type AddressPool } from './subnet.js';
import { bridgeNameFor } from './bridge.js';
import { BRIDGE_NAME_OPTION, type NetworkRecord } from './types.js';

export interface NetworkCreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  CheckDuplicate?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  Ingress?: boolean;
  Scope?: string;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }> | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface CreateContext {
  existing: NetworkRecord[];
  /** Subnets of the host's routes: automatic subnets avoid them. */
  hostRoutes: string[];
  pools: AddressPool[];
  /** Network devices of the host, so a chosen bridge name is not someone else's. */
  deviceExists(name: string): boolean;
}

const invalidConfig = (msg: string) => badRequest(`invalid network config:\n${msg}`);

function checkCidr(cidr: string, what: string): void {
  try { parseCidr(cidr); } catch { throw invalidConfig(`invalid ${what} ${cidr}: invalid CIDR block notation`); }
}

export function networkRecordFrom(body: NetworkCreateBody, ctx: CreateContext): NetworkRecord {
  const name = body.Name ?? '';
  if (!name) throw badRequest('network name must not be empty');
  if (!validName(name) && !/^[a-zA-Z0-9]$/.test(name)) throw badRequest(`invalid network name "${name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  if (ctx.existing.some((n) => n.Name === name)) throw conflict(`network with name ${name} already exists`);
  const driver = body.Driver || 'bridge';
  if (driver === 'host' || driver === 'null') throw new ApiError(403, `only one instance of "${driver}" network is allowed`);
  if (driver !== 'bridge') throw new ApiError(404, `plugin "${driver}" not found`);
  if (body.EnableIPv6) throw badRequest('IPv6 networks are not supported by this engine yet');
  // what needs swarm, or what this engine would not enforce, is refused rather than made as a plain network
  if (body.Ingress) throw new ApiError(403, 'ingress networks need swarm mode, which this engine does not have');
  if (body.ConfigOnly || body.ConfigFrom?.Network) throw badRequest('config-only networks (and --config-from) are not supported by this engine');
  if (body.Scope && body.Scope !== 'local') throw badRequest(`invalid scope ${JSON.stringify(body.Scope)}: this engine has local networks only`);
  if (body.Options?.['com.docker.network.bridge.enable_icc'] === 'false') throw badRequest('com.docker.network.bridge.enable_icc=false is not supported by this engine yet: containers on a network always reach each other');
  const ipamDriver = body.IPAM?.Driver || 'default';
  if (ipamDriver !== 'default') throw new ApiError(404, `plugin "${ipamDriver}" not found`);
  const configs = body.IPAM?.Config ?? [];
  if (configs.length > 1) throw badRequest('more than one IPv4 subnet per network is not supported by this engine yet');
  const taken = ctx.existing.flatMap((n) => n.IPAM.Config.map((c) => c.Subnet));
  const c = configs[0] ?? {};
  let subnet: string;
  let gateway: string;
  if (c.Subnet) {
    checkCidr(c.Subnet, 'subnet');
    const { base, bits } = parseCidr(c.Subnet);
    if (bits > 30) throw invalidConfig(`invalid subnet ${c.Subnet}: too small for a network`);
    subnet = `${toIp(base)}/${bits}`;
    if (subnet !== c.Subnet) throw invalidConfig(`invalid subnet ${c.Subnet}: it should be ${subnet}`);
    // an explicit subnet may overlap the host's routes (docker allows it) but not another network of ours
    if (taken.some((t) => overlaps(t, subnet))) throw new ApiError(403, 'invalid pool request: Pool overlaps with other one on this address space');
    gateway = c.Gateway ?? toIp(base + 1);
  } else {
    if (c.Gateway || c.IPRange) throw invalidConfig('a gateway or ip-range needs a subnet (--subnet)');
    ({ subnet, gateway } = chooseSubnet([...ctx.hostRoutes, ...taken], ctx.pools));
  }
  if (!isIPv4(gateway)) throw invalidConfig(`invalid gateway address ${gateway}`);
  if (!contains(subnet, gateway)) throw invalidConfig(`no matching subnet for gateway ${gateway}`);
  const { base, bits } = parseCidr(subnet);
  if (toInt(gateway) === base || toInt(gateway) === base + 2 ** (32 - bits) - 1) throw invalidConfig(`invalid gateway address ${gateway}: network or broadcast address`);
  if (c.IPRange) {
    checkCidr(c.IPRange, 'ip-range');
    if (!overlaps(subnet, c.IPRange) || parseCidr(c.IPRange).bits < bits) throw invalidConfig(`invalid ip-range ${c.IPRange}: it must be within the subnet ${subnet}`);
  }
  const options = { ...(body.Options ?? {}) };
  const mtu = options['com.docker.network.driver.mtu'];
  if (mtu !== undefined && !(Number(mtu) >= 68 && Number(mtu) <= 65535)) throw badRequest(`invalid MTU "${mtu}"`);
  const rec: NetworkRecord = {
    Id: newId(),
    Name: name,
    Created: new Date().toISOString(),
    Driver: 'bridge',
    Internal: !!body.Internal,
    Attachable: !!body.Attachable,
    IPAM: { Driver: 'default', Options: body.IPAM?.Options ?? {}, Config: [{ Subnet: subnet, Gateway: gateway, ...(c.IPRange ? { IPRange: c.IPRange } : {}) }] },
    Options: options,
    Labels: { ...(body.Labels ?? {}) },
    Bridges: [],
  };
  const dev = bridgeNameFor(rec);
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(dev)) throw badRequest(`invalid bridge name "${dev}" (${BRIDGE_NAME_OPTION}): up to 15 letters, digits, '_', '.', '-'`);
  if (ctx.existing.some((n) => n.Bridges.includes(dev))) throw new ApiError(403, `bridge ${dev} is already used by another network`);
  if (ctx.deviceExists(dev)) throw new ApiError(403, `a network device named ${dev} already exists on the host`);
  rec.Bridges = [dev];
  return rec;
}
