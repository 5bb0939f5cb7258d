// Output formatting as the docker CLI prints it: tabwriter tables, "3 minutes ago", sizes, ports,
// plus the --format handling (table/json/Go templates) shared by ps, images and friends.
import { bytesSize, humanDuration, humanSize, humanSizePrec, parseGoDuration } from '../util/units.js';
import { goString, parseTemplate, execute, OWN_JSON } from './template.js';
import type { ContainerSummary, ImageSummary } from '../client/types.js';

const width = (s: string) => [...s].length;

/**
 * Go's text/tabwriter as docker configures it (minwidth, tabwidth 1, padding, blanks): every cell but the
 * last on a line is padded to its column's width; the last cell is printed as is.
 */
export function tabulate(rows: string[][], minWidth = 10, padding = 3): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.slice(0, -1).forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, width(c) + padding, minWidth); });
  }
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c + ' '.repeat(widths[i] - width(c)) : c)).join('')).join('\n') + (rows.length ? '\n' : '');
}

/** docker's formatter.Ellipsis: cut to maxWidth display cells, the last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 0) return '';
  return chars.slice(0, max - 1).join('') + '…';
}

export function truncId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** "5 seconds ago" for a unix timestamp (seconds) relative to now. */
export function ago(unixSeconds: number, nowMs = Date.now()): string {
  return `${humanDuration(Math.max(0, Math.floor(nowMs / 1000 - unixSeconds)))} ago`;
}

export { bytesSize, humanSize, humanSizePrec, humanDuration };

/** docker's container size column: "0B (virtual 4.26MB)". */
export function sizeColumn(rw?: number, rootFs?: number): string {
  const s = humanSize(rw ?? 0);
  return rootFs ? `${s} (virtual ${humanSize(rootFs)})` : s;
}

type Port = ContainerSummary['Ports'][number];

/**
 * Ports as `docker ps` shows them: sorted by container port; ports published on the same number (or not at all)
 * merged into ranges per address and protocol ("443-444/tcp", "0.0.0.0:80-81->80-81/tcp"); mappings to a different
 * host port listed after, one by one ("0.0.0.0:8080->80/tcp, [::]:8080->80/tcp").
 */
export function formatPorts(ports: Port[] | null | undefined): string {
  if (!ports || !ports.length) return '';
  const sorted = ports.slice().sort((a, b) => a.PrivatePort - b.PrivatePort || cmp(a.Type, b.Type) || cmp(a.IP ?? '', b.IP ?? '') || (a.PublicPort ?? 0) - (b.PublicPort ?? 0));
  const hostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const groups = new Map<string, { ip: string; type: string; first: number; last: number }>();
  const ranges: string[] = [];
  const mappings: string[] = [];
  const show = (g: { ip: string; type: string; first: number; last: number }) => {
    const span = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return g.ip ? `${hostPort(g.ip, span)}->${span}/${g.type}` : `${span}/${g.type}`;
  };
  for (const p of sorted) {
    const ip = p.IP ?? '';
    if (ip && p.PublicPort !== p.PrivatePort) {
      mappings.push(`${hostPort(ip, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
      continue;
    }
    const key = ip ? `${ip}/${p.Type}` : p.Type;
    const g = groups.get(key);
    if (!g) { groups.set(key, { ip, type: p.Type, first: p.PrivatePort, last: p.PrivatePort }); continue; }
    if (p.PrivatePort === g.last + 1) { g.last = p.PrivatePort; continue; }
    ranges.push(show(g));
    groups.set(key, { ip, type: p.Type, first: p.PrivatePort, last: p.PrivatePort });
  }
  for (const g of groups.values()) ranges.push(show(g));
  return [...ranges, ...mappings].join(', ');
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// ---- row contexts for --format (field names as docker's templates know them) ----

export interface FormatSpec { kind: 'table' | 'raw' | 'json'; template: string }

/** Decode --format: "table …", "json", or a raw template; `\t` and `\n` typed in the shell become real ones. */
export function parseFormat(format: string | undefined, defaultTable: string): FormatSpec {
  const f = (format ?? '').trim();
  const unescape = (s: string) => s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  if (!f || f === 'table') return parseFormat(defaultTable.startsWith('table ') ? defaultTable : `table ${defaultTable}`, defaultTable);
  if (f === 'json') return { kind: 'json', template: '{{json .}}' };
  if (f.startsWith('table ')) return { kind: 'table', template: unescape(f.slice(6).trim()) };
  return { kind: 'raw', template: unescape(f) };
}

/**
 * Render rows: for a table, the header comes from running the same template over `headers`, and cells are
 * split on tabs and aligned; for a raw template each row is one line.
 */
export function renderRows(spec: FormatSpec, rows: Array<Record<string, unknown>>, headers: Record<string, unknown>): string {
  if (spec.kind === 'json') {
    return rows.map((r) => goJson(plain(r)) + '\n').join('');
  }
  const t = parseTemplate(spec.template);
  const marked = rows.map((r) => Object.defineProperty({ ...r }, OWN_JSON, { value: () => goJson(plain(r)) }));
  if (spec.kind === 'raw') return marked.map((r) => execute(t, r) + '\n').join('');
  const lines = [execute(t, headers), ...marked.map((r) => execute(t, r))];
  return tabulate(lines.map((l) => l.split('\t')));
}

function plain(r: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(r).sort()) if (typeof r[k] !== 'function') o[k] = r[k];
  return o;
}

/** JSON as Go's encoder writes it: HTML-sensitive characters escaped. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const containerHeaders: Record<string, unknown> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES', Platform: 'PLATFORM', Label: () => 'LABEL',
};

export const defaultPsTable = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

const pad2 = (n: number) => String(n).padStart(2, '0');
const localDateTime = (d: Date, sep: string) =>
  `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}${sep}${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
/** The local zone's offset from UTC: sign, hours, minutes. */
function zoneOffset(d: Date): { sign: string; hh: string; mm: string; zero: boolean } {
  const off = -d.getTimezoneOffset();
  return { sign: off >= 0 ? '+' : '-', hh: pad2(Math.floor(Math.abs(off) / 60)), mm: pad2(Math.abs(off) % 60), zero: off === 0 };
}

/** Go's time.Time String() for a unix timestamp, in local time: "2024-05-01 10:11:12 +0000 UTC". */
export function goTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const z = zoneOffset(d);
  return `${localDateTime(d, ' ')} ${z.sign}${z.hh}${z.mm} ${z.zero ? 'UTC' : zoneName(d)}`;
}

/** Go's RFC 3339 form of a unix timestamp, in local time: "2024-05-01T10:11:12Z" or "…T12:11:12+02:00". */
export function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const z = zoneOffset(d);
  return `${localDateTime(d, 'T')}${z.zero ? 'Z' : `${z.sign}${z.hh}:${z.mm}`}`;
}

// making an Intl formatter costs milliseconds (`ps` formats every container's time): one, and only off UTC
let zoneFormat: Intl.DateTimeFormat | undefined;
function zoneName(d: Date): string {
  zoneFormat ??= Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  return zoneFormat.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

export function containerRow(c: ContainerSummary, opts: { trunc: boolean; now?: number }): Record<string, unknown> {
  const trunc = opts.trunc;
  let names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  if (trunc) names = names.filter((n) => !n.includes('/')); // link aliases look like "other/alias"
  let image = c.Image || '<no image>';
  if (trunc) {
    if (image.startsWith('sha256:') || truncId(c.ImageID ?? '') === truncId(image)) image = truncId(image);
    image = image.replace(/@sha256:[0-9a-f]{64}$/, '');
  }
  const command = trunc ? ellipsis(c.Command ?? '', 20) : c.Command ?? '';
  const labels = c.Labels ?? {};
  return {
    ID: trunc ? truncId(c.Id) : c.Id,
    Image: image,
    Command: `"${command}"`,
    CreatedAt: goTime(c.Created),
    RunningFor: ago(c.Created, opts.now),
    Ports: formatPorts(c.Ports),
    State: c.State,
    Status: c.Status,
    Size: sizeColumn(c.SizeRw, c.SizeRootFs),
    Names: names.join(','),
    Labels: Object.keys(labels).map((k) => `${k}=${labels[k]}`).join(','),
    Label: (k: unknown) => labels[String(k)] ?? '',
    Mounts: (c.Mounts ?? []).map((m) => (m.Name ? (trunc ? ellipsis(m.Name, 15) : m.Name) : m.Source ?? '')).join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Name).length),
    Platform: null,
  };
}

export const imageHeaders: Record<string, unknown> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

export const defaultImagesTable = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

/** One row per repo:tag (dangling images get one `<none>` row), like `docker images`. */
export function imageRows(images: ImageSummary[], opts: { trunc: boolean; digests?: boolean; now?: number }): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const im of images) {
    const base = {
      ID: opts.trunc ? truncId(im.Id) : im.Id,
      CreatedSince: ago(im.Created, opts.now),
      CreatedAt: goTime(im.Created),
      Size: humanSize(im.Size),
      VirtualSize: humanSizePrec(im.VirtualSize ?? im.Size, 4),
      SharedSize: im.SharedSize === undefined || im.SharedSize < 0 ? 'N/A' : humanSizePrec(im.SharedSize, 4),
      UniqueSize: im.SharedSize === undefined || im.SharedSize < 0 ? 'N/A' : humanSizePrec(im.Size - im.SharedSize, 4),
      Containers: im.Containers === undefined || im.Containers < 0 ? 'N/A' : String(im.Containers),
    };
    const digestOf = (repo: string) => (im.RepoDigests ?? []).find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
    const tags = (im.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    if (!tags.length) {
      const d = (im.RepoDigests ?? []).filter((x) => x !== '<none>@<none>');
      if (d.length) for (const rd of d) { const [repo, dg] = rd.split('@'); rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: dg }); }
      else rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' });
      continue;
    }
    for (const t of tags) {
      const i = t.lastIndexOf(':');
      const repo = i > t.lastIndexOf('/') ? t.slice(0, i) : t;
      const tag = i > t.lastIndexOf('/') ? t.slice(i + 1) : '<none>';
      rows.push({ ...base, Repository: repo, Tag: tag, Digest: digestOf(repo) });
    }
  }
  return rows;
}

export { goString };

// ---- timestamps for --since/--until ----

export { parseGoDuration };

/**
 * docker's --since/--until values: a Go duration relative to now ("10m", "1h30m"), a unix timestamp
 * ("1700000000" or with fractional seconds), or an RFC3339-ish date ("2024-01-02", "2024-01-02T15:04:05Z",
 * with or without zone: no zone means local time). Returns the API's "seconds.nanoseconds".
 */
export function parseTimestamp(value: string, nowMs = Date.now()): string {
  const v = value.trim();
  // "0" is a valid duration, but docker reads it as the epoch
  const dur = v === '0' ? undefined : parseGoDuration(v);
  if (dur !== undefined) return secondsString(nowMs / 1000 - dur);
  if (/^\d+(\.\d{1,9})?$/.test(v)) return v;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) throw new Error(`invalid value for "since": failed to parse value as time or duration: "${value}"`);
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone] = m;
  let ms: number;
  if (zone) {
    const z = zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
    ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${z}`);
  } else {
    ms = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)).getTime();
  }
  if (Number.isNaN(ms)) throw new Error(`invalid value for "since": failed to parse value as time or duration: "${value}"`);
  const nanos = frac ? frac.slice(1).padEnd(9, '0') : '000000000';
  return `${Math.floor(ms / 1000)}.${nanos}`;
}

function secondsString(sec: number): string {
  const whole = Math.floor(sec);
  const nanos = Math.round((sec - whole) * 1e9);
  return `${whole}.${String(Math.min(nanos, 999999999)).padStart(9, '0')}`;
}
