// Legacy `--link name[:alias]`: the linked container's address under its name and the alias in /etc/hosts (every
// container here is also found by name through the embedded DNS; a link adds the alias, as docker's does).
import { conflict, notFound } from '../../util/errors.js';
import type { ContainerRecord } from './types.js';

export interface LinkedHost { ip: string; names: string[] }

/** "db", "db:alias" or docker's stored form "/db:/self/alias" → the target and the alias. */
export function parseLink(link: string): { target: string; alias: string } {
  const [t, a] = link.split(':', 2);
  const target = t.replace(/^\//, '');
  const alias = a ? a.slice(a.lastIndexOf('/') + 1) : target;
  return { target, alias };
}

/** The hosts entries of a starting container's links; a target must exist and run. */
export function linkedHosts(rec: ContainerRecord, find: (ref: string) => ContainerRecord | undefined): LinkedHost[] {
  const out: LinkedHost[] = [];
  for (const link of rec.HostConfig.Links ?? []) {
    const { target, alias } = parseLink(link);
    const other = find(target);
    if (!other) throw notFound(`could not get container for ${target}`);
    const endpoints = Object.values(other.NetworkSettings?.Endpoints ?? {});
    if (other.State.Status !== 'running' || !endpoints.length) throw conflict(`Cannot link to a non running container: /${other.Name} AS /${rec.Name}/${alias}`);
    // an address on a network both are on, else its first
    const mine = new Set(Object.values(rec.NetworkSettings?.Endpoints ?? {}).map((e) => e.NetworkID));
    const ep = endpoints.find((e) => mine.has(e.NetworkID)) ?? endpoints[0];
    out.push({ ip: ep.IPAddress, names: [...new Set([alias, other.Id.slice(0, 12), other.Name])] });
  }
  return out;
}
