// `tug run`/`tug create` flags -> the POST /containers/create body, as the docker CLI maps them.
import { readFileSync } from 'node:fs';
import { parseBytes } from '../util/units.js';
import type { ContainerCreateBody, PortBinding } from '../client/types.js';
import { FlagError, UsageError } from './errors.js';
import { parseGoDuration } from './format.js';

export interface RunFlags {
  detach?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  label?: string[];
  init?: boolean;
  interactive?: boolean;
  tty?: boolean;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  securityOpt?: string[];
  restart?: string;
  runtime?: string;
  logOpt?: string[];
  logDriver?: string;
  stopSignal?: string;
  stopTimeout?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  volume?: string[];
  network?: string;
  tmpfs?: string[];
  addHost?: string[];
  dns?: string[];
  shmSize?: string;
  attach?: string[];
  platform?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  healthcheck?: boolean;
}

const flagErr = (value: string, flag: string, why: string) =>
  new FlagError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

function bytesFlag(v: string, flag: string): number {
  try {
    return parseBytes(v);
  } catch {
    const m = /[^\d.\s]+/.exec(v);
    throw flagErr(v, flag, m ? `invalid suffix: '${m[0]}'` : `invalid size: '${v}'`);
  }
}

function intFlag(v: string, flag: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw flagErr(v, flag, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

export type ResourceFlags = Pick<RunFlags, 'memory' | 'memorySwap' | 'cpus' | 'cpuShares' | 'cpusetCpus' | 'pidsLimit'>;

/** The resource limits of `run`, `create` and `update` as HostConfig fields. */
export function resourceFlags(f: ResourceFlags): NonNullable<ContainerCreateBody['HostConfig']> {
  const hc: NonNullable<ContainerCreateBody['HostConfig']> = {};
  if (f.memory !== undefined) hc.Memory = bytesFlag(f.memory, '-m, --memory');
  if (f.memorySwap !== undefined) hc.MemorySwap = f.memorySwap.trim() === '-1' ? -1 : bytesFlag(f.memorySwap, '--memory-swap');
  if (f.cpus !== undefined) {
    const n = Number(f.cpus);
    if (!/^\s*\d*\.?\d+\s*$/.test(f.cpus) || !Number.isFinite(n)) throw flagErr(f.cpus, '--cpus', `failed to parse ${f.cpus} as a rational number`);
    hc.NanoCpus = Math.round(n * 1e9);
  }
  if (f.cpuShares !== undefined) hc.CpuShares = intFlag(f.cpuShares, '-c, --cpu-shares');
  if (f.cpusetCpus !== undefined) hc.CpusetCpus = f.cpusetCpus;
  if (f.pidsLimit !== undefined) hc.PidsLimit = intFlag(f.pidsLimit, '--pids-limit');
  return hc;
}

/** Parse "KEY=VAL" lines of an --env-file (comments and blank lines skipped; bare KEY taken from our env). */
export function parseEnvFile(text: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid environment variable: ${line}`);
    if (eq < 0) {
      const k = line.trimEnd();
      if (/\s/.test(k)) throw new UsageError(`variable '${k}' contains whitespaces`);
      if (env[k] !== undefined) out.push(`${k}=${env[k]}`);
    } else out.push(line);
  }
  return out;
}

/** A bare -e KEY takes the value from the CLI's environment; when unset it is passed bare, as docker does. */
function envEntry(e: string, env: NodeJS.ProcessEnv): string {
  if (e.includes('=')) {
    if (e.startsWith('=')) throw new UsageError(`invalid environment variable: ${e}`);
    return e;
  }
  return env[e] !== undefined ? `${e}=${env[e]}` : e;
}

/** Capabilities as docker's CLI sends them: upper case with the CAP_ prefix ("ALL" stays). */
export function normalizeCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
}

export function parseRestart(v: string): { Name: string; MaximumRetryCount?: number } {
  const [name, count, ...extra] = v.split(':');
  if (extra.length) throw flagErr(v, '--restart', 'invalid restart policy format');
  switch (name) {
    case 'no': case '':
      if (count !== undefined) throw new UsageError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
      return { Name: 'no' };
    case 'always': case 'unless-stopped':
      if (count !== undefined) throw new UsageError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
      return { Name: name };
    case 'on-failure': {
      if (count === undefined) return { Name: 'on-failure' };
      if (!/^\d+$/.test(count)) throw new UsageError(`invalid restart policy format: maximum retry count must be an integer`);
      return { Name: 'on-failure', MaximumRetryCount: Number(count) };
    }
    default:
      throw new UsageError(`invalid restart policy: ${name}`);
  }
}

/** -p [ip:][hostPort:]containerPort[/proto], with ranges. */
export function parsePublish(specs: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  const range = (s: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new UsageError(`invalid ${what}: ${s}`);
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    if (a > 65535 || b > 65535 || b < a) throw new UsageError(`invalid ${what}: ${s}`);
    return [a, b];
  };
  for (const spec of specs) {
    let rest = spec;
    let proto = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) { proto = rest.slice(slash + 1).toLowerCase(); rest = rest.slice(0, slash); }
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid proto: ${proto}`);
    let ip = '';
    let hostPart = '';
    let containerPart: string;
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
    if (v6) { ip = v6[1]; rest = v6[2]; }
    const parts = rest.split(':');
    if (v6) { [hostPart, containerPart] = parts.length === 2 ? parts : ['', parts[0]]; }
    else if (parts.length === 1) containerPart = parts[0];
    else if (parts.length === 2) [hostPart, containerPart] = parts;
    else if (parts.length === 3) [ip, hostPart, containerPart] = parts;
    else throw new UsageError(`invalid port specification: "${spec}"`);
    if (!containerPart) throw new UsageError(`no port specified: ${spec}<empty>`);
    const [c1, c2] = range(containerPart, 'containerPort');
    const hp = hostPart ? range(hostPart, 'hostPort') : undefined;
    if (hp && hp[1] - hp[0] !== c2 - c1 && hp[0] !== hp[1] || (hp && c2 !== c1 && hp[0] === hp[1] && hostPart.includes('-')))
      throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
    for (let p = c1; p <= c2; p++) {
      const key = `${p}/${proto}`;
      exposed[key] = {};
      let hostPort = '';
      if (hp) hostPort = hp[0] === hp[1] ? String(hp[0]) : c1 === c2 ? `${hp[0]}-${hp[1]}` : String(hp[0] + (p - c1));
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hostPort });
    }
  }
  return { exposed, bindings };
}

export interface CreateRequest { body: ContainerCreateBody; name?: string; platform?: string }

/** Map parsed flags plus IMAGE [COMMAND...] onto the create request. */
export function buildCreateRequest(image: string, args: string[], f: RunFlags, env: NodeJS.ProcessEnv = process.env): CreateRequest {
  if (f.rm && f.restart && f.restart !== 'no') throw new UsageError('conflicting options: cannot specify both --restart and --rm');
  const attached = !f.detach;
  let attachStdin = !!f.interactive && attached;
  let attachStdout = attached;
  let attachStderr = attached;
  if (f.attach && f.attach.length) {
    if (f.detach) throw new UsageError('conflicting options: cannot specify both --attach and --detach');
    attachStdin = attachStdout = attachStderr = false;
    for (const a of f.attach) {
      const s = a.toLowerCase();
      if (s === 'stdin') attachStdin = true;
      else if (s === 'stdout') attachStdout = true;
      else if (s === 'stderr') attachStderr = true;
      else throw new FlagError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    }
  }

  const envList: string[] = [];
  for (const file of f.envFile ?? []) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (e) { throw new UsageError(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`); }
    envList.push(...parseEnvFile(text, env));
  }
  for (const e of f.env ?? []) envList.push(envEntry(e, env));

  const labels: Record<string, string> = {};
  for (const l of f.label ?? []) {
    const i = l.indexOf('=');
    if (i === 0) throw new UsageError(`invalid label: ${l}`);
    if (i < 0) labels[l] = ''; else labels[l.slice(0, i)] = l.slice(i + 1);
  }

  const hc: ContainerCreateBody['HostConfig'] = resourceFlags(f);
  if (f.capAdd?.length) hc.CapAdd = f.capAdd.map(normalizeCap);
  if (f.capDrop?.length) hc.CapDrop = f.capDrop.map(normalizeCap);
  if (f.privileged) hc.Privileged = true;
  if (f.readOnly) hc.ReadonlyRootfs = true;
  if (f.securityOpt?.length) hc.SecurityOpt = f.securityOpt;
  if (f.init) hc.Init = true;
  if (f.runtime) hc.Runtime = f.runtime;
  if (f.rm) hc.AutoRemove = true;
  hc.RestartPolicy = f.restart ? parseRestart(f.restart) : { Name: 'no' };
  if (f.logDriver || f.logOpt?.length) {
    const cfg: Record<string, string> = {};
    for (const o of f.logOpt ?? []) {
      const i = o.indexOf('=');
      if (i <= 0) throw new UsageError(`invalid key/value pair format in logging opts: ${o}`);
      cfg[o.slice(0, i)] = o.slice(i + 1);
    }
    hc.LogConfig = { Type: f.logDriver ?? '', Config: cfg };
  }
  if (f.volume?.length) hc.Binds = f.volume.filter((v) => v.includes(':'));
  hc.NetworkMode = f.network || 'default';
  if (f.tmpfs?.length) {
    hc.Tmpfs = {};
    for (const t of f.tmpfs) { const i = t.indexOf(':'); hc.Tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }
  }
  if (f.addHost?.length) hc.ExtraHosts = f.addHost.map((h) => h.replace('=', ':'));
  if (f.dns?.length) hc.Dns = f.dns;
  if (f.shmSize !== undefined) hc.ShmSize = bytesFlag(f.shmSize, '--shm-size');
  if (f.publishAll) hc.PublishAllPorts = true;

  const body: ContainerCreateBody = {
    Image: image,
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: !!f.tty,
    OpenStdin: !!f.interactive,
    StdinOnce: !!f.interactive && attachStdin,
    Env: envList,
    Labels: labels,
    HostConfig: hc,
  };
  if (args.length) body.Cmd = args;
  if (f.entrypoint !== undefined) body.Entrypoint = [f.entrypoint];
  if (f.workdir !== undefined) body.WorkingDir = f.workdir;
  if (f.user !== undefined) body.User = f.user;
  if (f.hostname !== undefined) body.Hostname = f.hostname;
  if (f.stopSignal !== undefined) body.StopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) body.StopTimeout = intFlag(f.stopTimeout, '--stop-timeout');
  const health = healthFlags(f);
  if (health) body.Healthcheck = health;
  const anon = (f.volume ?? []).filter((v) => !v.includes(':'));
  if (anon.length) body.Volumes = Object.fromEntries(anon.map((v) => [v, {}]));
  if (f.publish?.length || f.expose?.length) {
    const { exposed, bindings } = parsePublish(f.publish ?? []);
    for (const e of f.expose ?? []) {
      const [p, proto = 'tcp'] = e.split('/');
      exposed[`${p}/${proto}`] = {};
    }
    body.ExposedPorts = exposed;
    if (Object.keys(bindings).length) hc.PortBindings = bindings;
  }
  return { body, name: f.name, platform: f.platform };
}

/** --health-* and --no-healthcheck → Config.Healthcheck (durations in nanoseconds), as the docker CLI builds it. */
export function healthFlags(f: RunFlags): ContainerCreateBody['Healthcheck'] | undefined {
  const dur = (v: string | undefined, flag: string): number => {
    if (v === undefined) return 0;
    const secs = parseGoDuration(v);
    if (secs === undefined) throw new FlagError(`invalid argument "${v}" for "${flag}" flag: time: invalid duration "${v}"`);
    if (secs < 0) throw new UsageError(`${flag} cannot be negative`);
    return Math.round(secs * 1e9);
  };
  const given = f.healthCmd !== undefined || f.healthInterval !== undefined || f.healthTimeout !== undefined || f.healthRetries !== undefined || f.healthStartPeriod !== undefined || f.healthStartInterval !== undefined;
  if (f.healthcheck === false) {
    if (given) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!given) return undefined;
  const retries = f.healthRetries === undefined ? 0 : intFlag(f.healthRetries, '--health-retries');
  if (retries < 0) throw new UsageError('--health-retries cannot be negative');
  return {
    Test: f.healthCmd ? ['CMD-SHELL', f.healthCmd] : undefined,
    Interval: dur(f.healthInterval, '--health-interval'),
    Timeout: dur(f.healthTimeout, '--health-timeout'),
    StartPeriod: dur(f.healthStartPeriod, '--health-start-period'),
    StartInterval: dur(f.healthStartInterval, '--health-start-interval'),
    Retries: retries,
  };
}

/** docker's normalisation for the "Unable to find image" message: add :latest when no tag or digest. */
export function withDefaultTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  return ref.slice(slash + 1).includes(':') ? ref : `${ref}:latest`;
}
