// `system df` (summary and -v), `system prune`, `image prune`.
import type { Command } from 'commander';
import type { DiskUsage } from '../client/api.js';
import type { ContainerSummary } from '../client/types.js';
import { clientFor } from './connect.js';
import { confirm, parseFilters } from './container.js';
import { ago, containerRow, humanSizePrec, imageHeaders, imageRows, parseFormat, renderRows, tabulate } from './format.js';
import { out } from './output.js';

/** docker prints disk usage and reclaimed space with 4 significant digits. */
const humanSize = (n: number) => humanSizePrec(n, 4);
const live = (c: ContainerSummary) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting';

/** "12.3MB (45%)", docker's reclaimable column. */
function share(part: number, total: number): string {
  return total > 0 ? `${humanSize(part)} (${Math.floor((part * 100) / total)}%)` : humanSize(part);
}

/** The four summary rows, computed as the docker CLI does from /system/df. */
export function dfRows(du: DiskUsage): Array<Record<string, string>> {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const layers = du.LayersSize ?? 0;
  const usedByImages = images.filter((i) => i.Containers > 0).reduce((a, i) => a + (i.Size - Math.max(0, i.SharedSize ?? 0)), 0);
  const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const ctrFree = containers.filter((c) => !live(c)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volSize = volumes.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volFree = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cacheSize = cache.filter((b) => !b.Shared).reduce((a, b) => a + b.Size, 0);
  const cacheFree = cache.filter((b) => !b.Shared && !b.InUse).reduce((a, b) => a + b.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize(layers), Reclaimable: share(Math.max(0, layers - usedByImages), layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter(live).length), Size: humanSize(ctrSize), Reclaimable: share(ctrFree, ctrSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volSize), Reclaimable: share(volFree, volSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: humanSize(cacheSize), Reclaimable: humanSize(cacheFree) },
  ];
}

const dfHeaders = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

export async function df(cmd: Command): Promise<void> {
  const o = cmd.opts() as { verbose?: boolean; format?: string };
  const du = await clientFor(cmd).systemDf();
  if (!o.verbose) {
    out(renderRows(parseFormat(o.format, 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}'), dfRows(du), dfHeaders));
    return;
  }
  const imgs = imageRows(du.Images ?? [], { trunc: true });
  out('Images space usage:\n\n');
  out(renderRows(parseFormat(undefined, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}'), imgs, imageHeaders));
  out('\nContainers space usage:\n\n');
  const ctrs = (du.Containers ?? []).map((c) => ({ ...containerRow(c, { trunc: true }), Size: humanSize(c.SizeRw ?? 0) }));
  out(renderRows(parseFormat(undefined, 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}'), ctrs,
    { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' }));
  out('\nLocal Volumes space usage:\n\n');
  out(tabulate([['VOLUME NAME', 'LINKS', 'SIZE'], ...(du.Volumes ?? []).map((v) => [v.Name, String(v.UsageData?.RefCount ?? 0), humanSize(v.UsageData?.Size ?? 0)])]));
  const cache = du.BuildCache ?? [];
  out(`\nBuild cache usage: ${humanSize(cache.reduce((a, b) => a + b.Size, 0))}\n\n`);
  const since = (t?: string | null) => (t ? ago(Date.parse(t) / 1000) : '');
  out(tabulate([['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED'], ...cache.map((b) => [
    // docker marks a record in use with a star
    `${b.ID.slice(0, 12)}${b.InUse ? '*' : ''}`, b.Type ?? '', humanSize(b.Size), since(b.CreatedAt), since(b.LastUsedAt), String(b.UsageCount ?? 0), String(b.Shared),
  ])]));
}

export async function imagePrune(cmd: Command): Promise<void> {
  const o = cmd.opts() as { all?: boolean; force?: boolean; filter?: string[] };
  const filters = parseFilters(o.filter);
  if (o.all) filters.dangling = ['false'];
  const warning = o.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
  if (!o.force && !(await confirm(`${warning}\nAre you sure you want to continue? [y/N] `))) return;
  const r = await clientFor(cmd).imagePrune(filters);
  const items = r.ImagesDeleted ?? [];
  if (items.length) out(`Deleted Images:\n${items.map((i) => (i.Untagged ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`)).join('')}\n`);
  out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
}

export async function systemPrune(cmd: Command): Promise<void> {
  const o = cmd.opts() as { all?: boolean; force?: boolean; volumes?: boolean; filter?: string[] };
  const filters = parseFilters(o.filter);
  const items = ['all stopped containers', 'all networks not used by at least one container', ...(o.volumes ? ['all anonymous volumes not used by at least one container'] : []),
    o.all ? 'all images without at least one container associated to them' : 'all dangling images', o.all ? 'all build cache' : 'unused build cache'];
  if (!o.force && !(await confirm(`WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}\nAre you sure you want to continue? [y/N] `))) return;
  const client = clientFor(cmd);
  let reclaimed = 0;
  const c = await client.containerPrune(filters);
  reclaimed += c.SpaceReclaimed ?? 0;
  if (c.ContainersDeleted?.length) out(`Deleted Containers:\n${c.ContainersDeleted.map((x) => `${x}\n`).join('')}\n`);
  const n = await client.objectPrune('networks', filters);
  if (n.deleted.length) out(`Deleted Networks:\n${n.deleted.map((x) => `${x}\n`).join('')}\n`);
  if (o.volumes) {
    const v = await client.objectPrune('volumes', { label: filters.label ?? [] });
    reclaimed += v.reclaimed;
    if (v.deleted.length) out(`Deleted Volumes:\n${v.deleted.map((x) => `${x}\n`).join('')}\n`);
  }
  const i = await client.imagePrune({ ...filters, ...(o.all ? { dangling: ['false'] } : {}) });
  reclaimed += i.SpaceReclaimed ?? 0;
  const imgs = i.ImagesDeleted ?? [];
  if (imgs.length) out(`Deleted Images:\n${imgs.map((x) => (x.Untagged ? `untagged: ${x.Untagged}\n` : `deleted: ${x.Deleted}\n`)).join('')}\n`);
  const b = await client.objectPrune('build', o.all ? { ...filters } : filters);
  reclaimed += b.reclaimed;
  if (b.deleted.length) out(`Deleted build cache objects:\n${b.deleted.map((x) => `${x}\n`).join('')}\n`);
  out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
}
