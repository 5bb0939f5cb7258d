// Legacy `--link name[:alias]`: the linked container's address under its name and the alias in /etc/hosts (every
// container here is also found by name through the embedded DNS; a link adds the alias, as docker's does), and on the
// default bridge docker's link variables (ALIAS_PORT_80_TCP_ADDR…) in the environment.
import { badRequest, conflict, notFound } from '../../util/errors.js';
import type { ContainerRecord } from './types.js';

export interface LinkedHost { ip: string; names: string[] }

type Find = (ref: string) => ContainerRecord | undefined;

/** "db", "db:alias" or docker's stored form "/db:/self/alias" → the target and the alias. */
export function parseLink(link: string): { target: string; alias: string } {
  const [t, a] = link.split(':', 2);
  const target = t.replace(/^\//, '');
  const alias = a ? a.slice(a.lastIndexOf('/') + 1) : target;
  return { target, alias };
}

/** A link's target container (which must exist) and alias. */
function linkTarget(link: string, find: Find): { other: ContainerRecord; alias: string } {
  const { target, alias } = parseLink(link);
  const other = find(target);
  if (!other) throw notFound(`could not get container for ${target}`);
  return { other, alias };
}

/** At create, as docker: each target must exist, and links are stored as "/target:/self/alias". */
export function normalizeLinks(links: string[] | null | undefined, self: string, networkMode: string, find: Find): string[] | null {
  if (!links?.length) return null;
  if (networkMode === 'host') throw badRequest("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  return links.map((link) => {
    const { other, alias } = linkTarget(link, find);
    return `/${other.Name}:/${self}/${alias}`;
  });
}

/** What a starting container's links give it: hosts entries and, on the default bridge, environment variables. */
export function resolveLinks(rec: ContainerRecord, find: Find): { hosts: LinkedHost[]; env: string[] } {
  const hosts: LinkedHost[] = [];
  const env: string[] = [];
  const legacy = ['default', 'bridge'].includes(rec.HostConfig.NetworkMode ?? 'default');
  for (const link of rec.HostConfig.Links ?? []) {
    const { other, alias } = linkTarget(link, find);
    const endpoints = Object.values(other.NetworkSettings?.Endpoints ?? {});
    if (other.State.Status !== 'running' || !endpoints.length) throw conflict(`Cannot link to a non running container: /${other.Name} AS /${rec.Name}/${alias}`);
    // an address on a network both are on, else its first
    const mine = new Set(Object.values(rec.NetworkSettings?.Endpoints ?? {}).map((e) => e.NetworkID));
    const ep = endpoints.find((e) => mine.has(e.NetworkID)) ?? endpoints[0];
    hosts.push({ ip: ep.IPAddress, names: [...new Set([alias, other.Id.slice(0, 12), other.Name])] });
    if (legacy) env.push(...linkEnv(alias, `/${rec.Name}/${alias}`, ep.IPAddress, other));
  }
  return { hosts, env };
}

/** docker's variables for one link: the first exposed port, every port in detail, the name, the target's own env. */
export function linkEnv(alias: string, name: string, ip: string, target: Pick<ContainerRecord, 'Config'>): string[] {
  const prefix = alias.toUpperCase().replace(/-/g, '_');
  const ports = Object.keys(target.Config.ExposedPorts ?? {})
    .map((p) => { const [port, proto = 'tcp'] = p.split('/'); return { port: Number(port), proto }; })
    .filter((p) => Number.isInteger(p.port))
    .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
  const out: string[] = [];
  if (ports.length) out.push(`${prefix}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
  for (const { port, proto } of ports) {
    const key = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
    out.push(`${key}=${proto}://${ip}:${port}`, `${key}_ADDR=${ip}`, `${key}_PORT=${port}`, `${key}_PROTO=${proto}`);
  }
  out.push(`${prefix}_NAME=${name}`);
  for (const kv of target.Config.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const key = kv.slice(0, eq);
    // added by image builds, of no use to the container linking to it
    if (key === 'HOME' || key === 'PATH') continue;
    out.push(`${prefix}_ENV_${key}=${kv.slice(eq + 1)}`);
  }
  return out;
}
