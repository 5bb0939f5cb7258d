// /networks: list (docker's filters), inspect (with the containers on it), create, remove, connect, disconnect, prune.
import type { ContainerStore } from '../../services/containers/store.js';
import type { NetworkManager } from '../../services/network/manager.js';
import type { NetworkCreateBody } from '../../services/network/create.js';
import type { EndpointRequest, NetworkRecord } from '../../services/network/types.js';
import { badRequest } from '../../util/errors.js';
import { Router, labelsMatch, pruneUntil, qfilters, readJsonBody, sendJson, sendNoContent } from '../router.js';

export interface NetworkRouteDeps { networks: NetworkManager; store: ContainerStore }

const LIST_FILTERS = ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'];

function view(n: NetworkRecord, containers?: Record<string, unknown>) {
  return {
    Name: n.Name, Id: n.Id, Created: n.Created, Scope: 'local', Driver: n.Driver, EnableIPv6: false,
    IPAM: { Driver: n.IPAM.Driver, Options: n.IPAM.Options, Config: n.IPAM.Config },
    Internal: n.Internal, Attachable: n.Attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers ?? {}, Options: n.Options, Labels: n.Labels,
  };
}

export function registerNetworkRoutes(r: Router, d: NetworkRouteDeps): void {
  const inspect = (n: NetworkRecord) => {
    const containers: Record<string, unknown> = {};
    for (const c of d.networks.activeOn(n)) {
      const e = Object.values(c.NetworkSettings?.Endpoints ?? {}).find((x) => x.NetworkID === n.Id);
      containers[c.Id] = { Name: c.Name, EndpointID: e?.EndpointID ?? '', MacAddress: e?.MacAddress ?? '', IPv4Address: e ? `${e.IPAddress}/${e.IPPrefixLen}` : '', IPv6Address: '' };
    }
    return view(n, containers);
  };

  r.get(/^\/networks\/?$/, async (ctx) => {
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!LIST_FILTERS.includes(k)) throw badRequest(`invalid filter '${k}'`);
    for (const t of f.type ?? []) if (t !== 'custom' && t !== 'builtin') throw badRequest(`invalid filter: 'type'='${t}'`);
    for (const v of f.dangling ?? []) if (!['true', 'false', '1', '0'].includes(v)) throw badRequest(`invalid filter 'dangling=${v}'`);
    const any = (k: string, test: (v: string) => boolean) => !f[k]?.length || f[k].some(test);
    const list = d.networks.list().filter((n) => any('driver', (v) => n.Driver === v)
      && any('id', (v) => n.Id.startsWith(v))
      && any('name', (v) => n.Name.includes(v))
      && any('scope', (v) => v === 'local')
      && any('type', (v) => (v === 'builtin') === !!n.Predefined)
      && (!f.label?.length || labelsMatch(n.Labels, f.label))
      && any('dangling', (v) => (v === 'true' || v === '1') === (!n.Predefined && d.networks.membersOf(n).length === 0)));
    sendJson(ctx.res, 200, list.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => inspect(n)));
  });

  r.get(/^\/networks\/(?<id>[^/]+)\/?$/, async (ctx) => {
    sendJson(ctx.res, 200, inspect(d.networks.get(ctx.params.id)));
  });

  r.post(/^\/networks\/create$/, async (ctx) => {
    const body = await readJsonBody<NetworkCreateBody>(ctx.req);
    if (!body || typeof body !== 'object') throw badRequest('network create needs a JSON body');
    const n = await d.networks.create(body);
    sendJson(ctx.res, 201, { Id: n.Id, Warning: '' });
  });

  r.delete(/^\/networks\/(?<id>[^/]+)$/, async (ctx) => {
    await d.networks.remove(ctx.params.id);
    sendNoContent(ctx.res);
  });

  type Attach = { Container?: string; EndpointConfig?: EndpointRequest | null; Force?: boolean };
  r.post(/^\/networks\/(?<id>[^/]+)\/connect$/, async (ctx) => {
    const body = (await readJsonBody<Attach>(ctx.req)) ?? {};
    if (!body.Container) throw badRequest('a container is needed: {"Container": "name or ID"}');
    d.networks.get(ctx.params.id);
    await d.networks.connect(d.store.get(body.Container), ctx.params.id, body.EndpointConfig ?? {});
    sendJson(ctx.res, 200, {});
  });

  r.post(/^\/networks\/(?<id>[^/]+)\/disconnect$/, async (ctx) => {
    const body = (await readJsonBody<Attach>(ctx.req)) ?? {};
    if (!body.Container) throw badRequest('a container is needed: {"Container": "name or ID"}');
    await d.networks.disconnect(d.store.get(body.Container), ctx.params.id, !!body.Force);
    sendJson(ctx.res, 200, {});
  });

  r.post(/^\/networks\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    for (const k of Object.keys(f)) if (!['until', 'label', 'label!'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const until = f.until?.length ? pruneUntil(f.until[0]) : Infinity;
    const deleted: string[] = [];
    for (const n of d.networks.list()) {
      if (n.Predefined || d.networks.membersOf(n).length) continue;
      if (Date.parse(n.Created) / 1000 >= until) continue;
      if (!labelsMatch(n.Labels, f.label ?? []) || (f['label!'] ?? []).some((l) => labelsMatch(n.Labels, [l]))) continue;
      await d.networks.remove(n.Id);
      deleted.push(n.Name);
    }
    sendJson(ctx.res, 200, { NetworksDeleted: deleted.length ? deleted : null });
  });
}
