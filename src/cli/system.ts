// version, info, and inspect (for containers, images, or whichever exists).
import type { Command } from 'commander';
import type { EngineClient, EngineEventMessage } from '../client/api.js';
import { API_VERSION } from '../client/transport.js';
import { EngineError, isNotFound } from '../client/errors.js';
import { clientFor } from './connect.js';
import { ExitError } from './errors.js';
import { humanSize, parseTimestamp } from './format.js';
import { parseTemplate, execute, TemplateError, withGoNames } from './template.js';
import { err, out } from './output.js';


const CLIENT_VERSION = process.env.TUG_VERSION ?? '0.1.0';

export function compileTemplate(format: string) {
  try {
    return parseTemplate(format);
  } catch (e) {
    throw new ExitError(1, `template parsing error: ${(e as Error).message}`);
  }
}

export function runTemplate(t: ReturnType<typeof parseTemplate>, data: unknown): string {
  try {
    return execute(t, data);
  } catch (e) {
    if (e instanceof TemplateError) throw new ExitError(1, `template: ${e.message}`);
    throw e;
  }
}

// ---- inspect ----

/** `network inspect`, `volume inspect`: each object fetched, rendered with -f (or as a JSON array), the failures
 *  reported together at the end with exit status 1, as docker does. */
export async function inspectEach(names: string[], format: string | undefined, fetch: (name: string) => Promise<unknown>): Promise<void> {
  const tpl = format && format !== 'json' ? compileTemplate(format) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  let rendered = '';
  for (const n of names) {
    try {
      const v = await fetch(n);
      if (tpl) rendered += `${runTemplate(tpl, v)}\n`;
      else found.push(v);
    } catch (e) {
      if (e instanceof ExitError) { errors.push(e.message); continue; }
      errors.push(e instanceof EngineError ? `Error response from daemon: ${e.message}` : (e as Error).message);
    }
  }
  if (tpl) out(rendered || '\n'); // docker's template inspector writes a newline when nothing else
  else out(found.length ? `${JSON.stringify(found, null, 4)}\n` : '[]\n');
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}

type Kind = 'container' | 'image' | 'network';
const KINDS: Kind[] = ['container', 'image', 'network'];

/** One object; with a --type the daemon's own error is reported, without one "No such object". */
async function inspectOne(client: EngineClient, name: string, kind: Kind | undefined, size: boolean): Promise<unknown> {
  const kinds: Kind[] = kind ? [kind] : KINDS;
  for (const k of kinds) {
    try {
      if (k === 'network') return await client.networkInspect(name);
      return k === 'container' ? await client.containerInspect(name, size) : await client.imageInspect(name);
    } catch (e) {
      if (!isNotFound(e) || kind) throw e;
    }
  }
  return undefined;
}

export async function inspect(cmd: Command, names: string[], kind?: string): Promise<void> {
  const o = cmd.opts() as { format?: string; size?: boolean };
  if (kind !== undefined && !KINDS.includes(kind as Kind)) {
    throw new ExitError(1, `unknown type: "${kind}": must be one of ${KINDS.map((k) => `"${k}"`).join(', ')}`);
  }
  const client = clientFor(cmd);
  const tpl = o.format ? compileTemplate(o.format) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const n of names) {
    let v: unknown;
    try {
      v = await inspectOne(client, n, kind as Kind | undefined, !!o.size);
    } catch (e) {
      errors.push(e instanceof EngineError ? `Error response from daemon: ${e.message}` : (e as Error).message);
      continue;
    }
    if (v === undefined) {
      errors.push(`Error: No such object: ${n}`);
      continue;
    }
    if (tpl) out(`${runTemplate(tpl, v)}\n`);
    else found.push(v);
  }
  if (!tpl) out(found.length ? `${JSON.stringify(found, null, 4)}\n` : '[]\n');
  if (errors.length) throw new ExitError(1, errors.join('\n'));
}

// ---- version ----

function clientInfo() {
  return withGoNames({
    Platform: { Name: '' },
    Version: CLIENT_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    NodeVersion: process.version,
    GoVersion: process.version,
    GitCommit: process.env.TUG_GIT_COMMIT ?? '',
    BuildTime: '',
    Os: process.platform,
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    Context: 'default',
  }, { APIVersion: 'ApiVersion' });
}

/** `tug dashboard`: the link that logs a browser in to the daemon's web dashboard. */
export async function dashboard(cmd: Command): Promise<void> {
  const { URL } = await clientFor(cmd).dashboardUrl();
  out(`${URL}\n`);
}

const pad = (label: string, n: number) => `${label}:`.padEnd(n);

export async function version(cmd: Command): Promise<void> {
  const o = cmd.opts() as { format?: string };
  const client = clientFor(cmd);
  const c = clientInfo();
  let server: Awaited<ReturnType<EngineClient['version']>> | undefined;
  let failure: unknown;
  try { server = await client.version(); } catch (e) { failure = e; }
  if (o.format) {
    const t = compileTemplate(o.format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
    out(`${runTemplate(t, { Client: c, Server: server ? withGoNames(server, { APIVersion: 'ApiVersion' }) : null })}\n`);
  } else {
    const lines = [
      'Client:',
      ` ${pad('Version', 19)}${c.Version}`,
      ` ${pad('API version', 19)}${c.ApiVersion}`,
      ` ${pad('Node version', 19)}${c.NodeVersion}`,
      ` ${pad('Git commit', 19)}${c.GitCommit}`,
      ` ${pad('OS/Arch', 19)}${c.Os}/${c.Arch}`,
      ` ${pad('Context', 19)}${c.Context}`,
    ];
    if (server) {
      lines.push('', `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`, ' Engine:',
        `  ${pad('Version', 18)}${server.Version}`,
        `  ${pad('API version', 18)}${server.ApiVersion}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`,
        ...(server.GoVersion ? [`  ${pad('Node version', 18)}${server.GoVersion}`] : []),
        ...(server.GitCommit ? [`  ${pad('Git commit', 18)}${server.GitCommit}`] : []),
        ...(server.BuildTime ? [`  ${pad('Built', 18)}${server.BuildTime}`] : []),
        `  ${pad('OS/Arch', 18)}${server.Os}/${server.Arch}`,
        `  ${pad('Experimental', 18)}${server.Experimental ? 'true' : 'false'}`);
      for (const comp of server.Components ?? []) {
        if (comp.Name === 'Engine') continue;
        lines.push(` ${comp.Name}:`, `  ${pad('Version', 18)}${comp.Version}`);
        for (const [k, v] of Object.entries(comp.Details ?? {})) lines.push(`  ${pad(k, 18)}${v}`);
      }
    }
    out(`${lines.join('\n')}\n`);
  }
  if (failure) throw failure;
}

// ---- info ----

export async function info(cmd: Command): Promise<void> {
  const o = cmd.opts() as { format?: string };
  const client = clientFor(cmd);
  if (o.format) {
    let server: unknown = null;
    let failure: unknown;
    try { server = await client.info(); } catch (e) { failure = e; }
    const t = compileTemplate(o.format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
    const data = o.format.includes('.Client') || o.format.includes('.ServerErrors') ? { Client: clientInfo(), ...(server as object) } : server;
    if (failure) throw failure;
    out(`${runTemplate(t, data)}\n`);
    return;
  }
  const c = clientInfo();
  out(`Client:\n ${pad('Version', 9)}${c.Version}\n ${pad('Context', 9)}${c.Context}\n ${pad('Debug Mode', 9)} false\n\n`);
  let s: Record<string, unknown>;
  try {
    s = await client.info();
  } catch (e) {
    out('Server:\n');
    throw e;
  }
  const g = (k: string) => s[k];
  const lines: string[] = ['Server:'];
  const kv = (k: string, v: unknown, indent = ' ') => { if (v !== undefined && v !== null && v !== '') lines.push(`${indent}${k}: ${v}`); };
  kv('Containers', g('Containers'));
  kv('Running', g('ContainersRunning'), '  ');
  kv('Paused', g('ContainersPaused'), '  ');
  kv('Stopped', g('ContainersStopped'), '  ');
  kv('Images', g('Images'));
  kv('Server Version', g('ServerVersion'));
  kv('Storage Driver', g('Driver'));
  for (const pair of (g('DriverStatus') as Array<[string, string]> | null) ?? []) kv(pair[0], pair[1], '  ');
  kv('Logging Driver', g('LoggingDriver'));
  kv('Cgroup Driver', g('CgroupDriver'));
  kv('Cgroup Version', g('CgroupVersion'));
  const runtimes = g('Runtimes') as Record<string, unknown> | undefined;
  if (runtimes) kv('Runtimes', Object.keys(runtimes).sort().join(' '));
  kv('Default Runtime', g('DefaultRuntime'));
  kv('Init Binary', g('InitBinary'));
  const sec = g('SecurityOptions') as string[] | undefined;
  if (sec?.length) {
    lines.push(' Security Options:');
    for (const so of sec) {
      const parts = so.split(',');
      lines.push(`  ${parts[0].replace(/^name=/, '')}`);
      for (const p of parts.slice(1)) { const [k, v] = p.split('='); lines.push(`   ${k[0].toUpperCase()}${k.slice(1)}: ${v}`); }
    }
  }
  kv('Kernel Version', g('KernelVersion'));
  kv('Operating System', g('OperatingSystem'));
  kv('OSType', g('OSType'));
  kv('Architecture', g('Architecture'));
  kv('CPUs', g('NCPU'));
  if (typeof g('MemTotal') === 'number') kv('Total Memory', humanBinary(g('MemTotal') as number));
  kv('Name', g('Name'));
  kv('ID', g('ID'));
  kv('Docker Root Dir', g('DockerRootDir'));
  kv('Debug Mode', g('Debug'));
  kv('Experimental', g('ExperimentalBuild'));
  const reg = g('RegistryConfig') as { InsecureRegistryCIDRs?: string[]; IndexConfigs?: Record<string, { Secure?: boolean }>; Mirrors?: string[] } | undefined;
  if (reg) {
    const insecure = [...Object.entries(reg.IndexConfigs ?? {}).filter(([, v]) => v.Secure === false).map(([k]) => k), ...(reg.InsecureRegistryCIDRs ?? [])];
    if (insecure.length) { lines.push(' Insecure Registries:'); for (const r of insecure) lines.push(`  ${r}`); }
    if (reg.Mirrors?.length) { lines.push(' Registry Mirrors:'); for (const m of reg.Mirrors) lines.push(`  ${m}`); }
  }
  kv('Live Restore Enabled', g('LiveRestoreEnabled'));
  out(`${lines.join('\n')}\n\n`);
  for (const w of (g('Warnings') as string[] | null) ?? []) err(`${w}\n`);
}

/** docker info prints memory in binary units ("7.764GiB"). */
function humanBinary(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}
export { humanSize };

// ---- events ----

/** docker's event line: local time with nanoseconds, type, action, actor ID and sorted attributes. */
export function eventLine(e: EngineEventMessage): string {
  const t = new Date(Math.floor(e.timeNano / 1e6)).toISOString().replace(/\.\d+Z$/, `.${String(e.timeNano % 1e9).padStart(9, '0')}Z`);
  const attrs = Object.keys(e.Actor.Attributes ?? {}).sort().map((k) => `${k}=${e.Actor.Attributes[k]}`);
  return `${t} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

export async function events(cmd: Command): Promise<void> {
  const o = cmd.opts() as { since?: string; until?: string; filter?: string[]; format?: string };
  const { parseFilters } = await import('./container.js');
  const filters = parseFilters(o.filter);
  const since = o.since ? timestampFlag(o.since, 'since') : undefined;
  const until = o.until ? timestampFlag(o.until, 'until') : undefined;
  const tpl = o.format && o.format !== 'json' ? compileTemplate(o.format) : undefined;
  for await (const e of clientFor(cmd).events({ since, until, filters })) {
    out(`${o.format === 'json' ? JSON.stringify(e) : tpl ? runTemplate(tpl, templateView(e)) : eventLine(e)}\n`);
  }
}

/** docker's templates see an event by its Go field names; `{{json .}}` prints the wire names. */
const templateView = (e: EngineEventMessage) => withGoNames(e, { Status: 'status', ID: 'id', From: 'from', Scope: 'scope', Time: 'time', TimeNano: 'timeNano' });

function timestampFlag(v: string, name: string): string {
  try {
    return parseTimestamp(v);
  } catch {
    throw new ExitError(1, `invalid value for "${name}": failed to parse value as time or duration: "${v}"`);
  }
}
