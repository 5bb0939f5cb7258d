// `tug volume …`: create, ls, inspect, rm, prune, as docker's CLI does them (its flags, request bodies,
// table columns, prompts and messages).
import type { Command } from 'commander';
import type { Volume, VolumeCreateBody } from '../client/types.js';
import { EngineError } from '../client/errors.js';
import { clientFor } from './connect.js';
import { confirm, parseFilters } from './container.js';
import { ExitError } from './errors.js';
import { humanSizePrec, parseFormat, renderRows } from './format.js';
import { naturalCompare, parseKeyValues, parseLabels } from './network.js';
import { inspectEach } from './system.js';
import { out } from './output.js';


const daemonMessage = (e: unknown) => (e instanceof EngineError ? `Error response from daemon: ${e.message}` : (e as Error).message);

/** docker's client refuses an empty (or blank) name before asking the daemon. */
function volumeRef(name: string): string {
  const n = name.trim();
  if (!n) throw new Error('invalid volume name or ID: value is empty');
  return n;
}

// ---- create ----

export interface VolumeCreateFlags { driver?: string; opt?: string[]; label?: string[]; name?: string }

/** The POST /volumes/create body for `tug volume create [NAME]`: empty fields left out, as docker's client sends it. */
export function buildVolumeCreate(name: string | undefined, f: VolumeCreateFlags): VolumeCreateBody {
  if (name !== undefined && f.name) throw new ExitError(1, 'conflicting options: cannot specify a volume-name through both --name and as a positional arg');
  const body: VolumeCreateBody = {};
  const n = name ?? f.name;
  if (n) body.Name = n;
  const driver = f.driver ?? 'local';
  if (driver) body.Driver = driver;
  const opts = parseKeyValues(f.opt);
  if (Object.keys(opts).length) body.DriverOpts = opts;
  const labels = parseLabels(f.label);
  if (Object.keys(labels).length) body.Labels = labels;
  return body;
}

export async function create(cmd: Command, name: string | undefined): Promise<void> {
  const body = buildVolumeCreate(name, cmd.opts() as VolumeCreateFlags);
  const v = await clientFor(cmd).volumeCreate(body);
  out(`${v.Name}\n`);
}

// ---- ls ----

export const defaultVolumeTable = 'table {{.Driver}}\t{{.Name}}';

export const volumeHeaders: Record<string, unknown> = {
  ID: 'ID', Name: 'VOLUME NAME', Group: 'GROUP', Driver: 'DRIVER', Scope: 'SCOPE', Availability: 'AVAILABILITY', Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Status: 'STATUS', Label: () => 'LABEL',
};

/** One `volume ls` row: the fields docker's volume templates know (cluster fields are N/A for local volumes). */
export function volumeRow(v: Volume): Record<string, unknown> {
  const labels = v.Labels ?? {};
  return {
    Name: v.Name,
    Driver: v.Driver ?? '',
    Scope: v.Scope ?? '',
    Mountpoint: v.Mountpoint ?? '',
    Labels: Object.keys(labels).map((k) => `${k}=${labels[k]}`).sort().join(','),
    Label: (k: unknown) => labels[String(k)] ?? '',
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Size: v.UsageData ? humanSizePrec(v.UsageData.Size, 4) : 'N/A',
    Group: 'N/A',
    Availability: 'N/A',
    Status: 'N/A',
  };
}

/** The --format of `volume ls`, as docker's NewVolumeFormat chooses it (-q alone prints names only). */
export function volumeFormat(format: string | undefined, quiet: boolean) {
  const f = (format ?? '').trim();
  if (!f || f === 'table') return quiet ? parseFormat('{{.Name}}', defaultVolumeTable) : parseFormat(undefined, defaultVolumeTable);
  if (f === 'raw') return parseFormat(quiet ? 'name: {{.Name}}\n' : 'name: {{.Name}}\ndriver: {{.Driver}}\n', defaultVolumeTable);
  return parseFormat(f, defaultVolumeTable);
}

export async function ls(cmd: Command): Promise<void> {
  const o = cmd.opts() as { quiet?: boolean; filter?: string[]; format?: string };
  const r = await clientFor(cmd).volumeList(parseFilters(o.filter));
  const list = [...(r.Volumes ?? [])].sort((a, b) => naturalCompare(a.Name, b.Name));
  out(renderRows(volumeFormat(o.format, !!o.quiet), list.map(volumeRow), volumeHeaders));
}

// ---- inspect ----

export async function inspect(cmd: Command, names: string[]): Promise<void> {
  const o = cmd.opts() as { format?: string };
  const client = clientFor(cmd);
  await inspectEach(names, o.format, (n) => client.volumeInspect(volumeRef(n)));
}

// ---- rm ----

/** Each name printed once removed; failures reported together at the end, exit status 1 (docker's errors.Join). */
export async function rm(cmd: Command, names: string[]): Promise<void> {
  const o = cmd.opts() as { force?: boolean };
  const client = clientFor(cmd);
  const errors: string[] = [];
  for (const n of names) {
    try {
      await client.volumeRemove(volumeRef(n), !!o.force);
      out(`${n}\n`);
    } catch (e) {
      errors.push(daemonMessage(e));
    }
  }
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}

// ---- prune ----

export const pruneWarning = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ';
export const pruneAllWarning = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ';

export async function prune(cmd: Command): Promise<void> {
  const o = cmd.opts() as { all?: boolean; force?: boolean; filter?: string[] };
  const filters = parseFilters(o.filter);
  if (o.all) {
    if ('all' in filters) throw new ExitError(1, 'conflicting options: cannot specify both --all and --filter all=1');
    filters.all = ['true'];
  }
  // a "no" cancels quietly, with status 0, as docker does
  if (!o.force && !(await confirm(o.all ? pruneAllWarning : pruneWarning))) return;
  const r = await clientFor(cmd).volumePrune(filters);
  const deleted = r.VolumesDeleted ?? [];
  let reclaimed = 0;
  if (deleted.length) {
    out(`Deleted Volumes:\n${deleted.map((v) => `${v}\n`).join('')}\n`);
    reclaimed = r.SpaceReclaimed ?? 0;
  }
  out(`Total reclaimed space: ${humanSizePrec(reclaimed, 4)}\n`);
}
