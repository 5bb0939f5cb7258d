// `tug run`/`tug create` flags -> the POST /containers/create body, as the docker CLI maps them.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseBytes } from '../util/units.js';
import type { ContainerCreateBody, EndpointSettings, PortBinding } from '../client/types.js';
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
  /** --network / --net, each a name or docker's `name=…,alias=…,ip=…` form; the first is the NetworkMode. */
  network?: string | string[];
  /** --network-alias / --net-alias */
  networkAlias?: string[];
  ip?: string;
  ip6?: string;
  tmpfs?: string[];
  addHost?: string[];
  dns?: string[];
  dnsSearch?: string[];
  /** --dns-option / --dns-opt */
  dnsOption?: string[];
  domainname?: string;
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
  const net = networkOpts(f);
  hc.NetworkMode = net.mode;
  if (f.tmpfs?.length) {
    hc.Tmpfs = {};
    for (const t of f.tmpfs) { const i = t.indexOf(':'); hc.Tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }
  }
  if (f.addHost?.length) hc.ExtraHosts = f.addHost.map(parseExtraHost);
  if (f.dns?.length) hc.Dns = f.dns.map((d) => { if (!isIP(d.trim())) throw flagErr(d, '--dns', `IP address is not correctly formatted: ${d}`); return d.trim(); });
  if (f.dnsSearch?.length) hc.DnsSearch = f.dnsSearch.map(dnsSearchEntry);
  if (f.dnsOption?.length) hc.DnsOptions = f.dnsOption;
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
  if (f.domainname !== undefined) body.Domainname = f.domainname;
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
  if (Object.keys(net.endpoints).length) body.NetworkingConfig = { EndpointsConfig: net.endpoints };
  return { body, name: f.name, platform: f.platform };
}

/** `--add-host name:ip` or `name=ip` (ip may be `host-gateway`, IPv6 may be in brackets), checked like docker's ValidateExtraHost; sent as "name:ip". */
export function parseExtraHost(v: string): string {
  let i = v.indexOf('=');
  if (i < 0) i = v.indexOf(':');
  const name = i < 0 ? '' : v.slice(0, i);
  let ip = i < 0 ? '' : v.slice(i + 1);
  if (!name || name.includes(':')) throw flagErr(v, '--add-host', `bad format for add-host: ${JSON.stringify(v)}`);
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (!isIP(ip.trim())) throw flagErr(v, '--add-host', `invalid IP address in add-host: ${JSON.stringify(ip)}`);
  }
  return `${name}:${ip}`;
}

const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*)\\.?\\s*$`);

/** A --dns-search domain as docker's ValidateDNSSearch takes it ("." stands for none; a trailing dot is dropped). */
export function dnsSearchEntry(v: string): string {
  const d = v.replace(/^ +| +$/g, '');
  if (d === '.') return d;
  const m = /[a-zA-Z]/.test(d) ? DOMAIN.exec(d) : null;
  if (!m || m[1].length >= 255) throw flagErr(v, '--dns-search', `${d} is not a valid domain`);
  return m[1];
}

/** Network modes that are not user-defined networks (moby's NetworkMode.IsUserDefined). */
export function isUserDefinedNetwork(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

interface NetworkAttachment { target: string; ep: EndpointSettings }

/** One --network value: a name, or docker's csv form `name=n,alias=a,ip=…,ip6=…,driver-opt=k=v,…`. */
export function parseNetworkFlag(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return { target: value, ep: {} };
  const att: NetworkAttachment = { target: '', ep: {} };
  const addr = (v: string) => {
    if (!isIP(v)) throw flagErr(value, '--network', `ParseAddr(${JSON.stringify(v)}): unable to parse IP`);
    return v;
  };
  for (const field of value.split(',')) {
    const lower = field.toLowerCase(); // docker lower-cases every field
    const i = lower.indexOf('=');
    const key = i < 0 ? '' : lower.slice(0, i).trim();
    if (!key) throw flagErr(value, '--network', `invalid field ${field}`);
    const val = lower.slice(i + 1).trim();
    switch (key) {
      case 'name': att.target = val; break;
      case 'alias': (att.ep.Aliases ??= []).push(val); break;
      case 'ip': (att.ep.IPAMConfig ??= {}).IPv4Address = addr(val); break;
      case 'ip6': (att.ep.IPAMConfig ??= {}).IPv6Address = addr(val); break;
      case 'link-local-ip': ((att.ep.IPAMConfig ??= {}).LinkLocalIPs ??= []).push(addr(val)); break;
      case 'mac-address': att.ep.MacAddress = val; break;
      case 'driver-opt': {
        const j = val.indexOf('=');
        if (j <= 0) throw flagErr(value, '--network', 'invalid key value pair format in driver options');
        (att.ep.DriverOpts ??= {})[val.slice(0, j).trim()] = val.slice(j + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?\d+$/.test(val)) throw flagErr(value, '--network', `invalid gw-priority (${val}): invalid syntax`);
        att.ep.GwPriority = Number(val);
        break;
      default: throw flagErr(value, '--network', `invalid field key ${key}`);
    }
  }
  if (!att.target) throw flagErr(value, '--network', 'network name/id is not specified');
  return att;
}

/**
 * --network (repeatable), --network-alias and --ip/--ip6 → HostConfig.NetworkMode and NetworkingConfig.EndpointsConfig,
 * as docker's parseNetworkOpts builds them: the plain flags apply to the first network; a single network without
 * endpoint settings sends none; aliases are refused on networks that are not user-defined.
 */
export function networkOpts(f: Pick<RunFlags, 'network' | 'networkAlias' | 'ip' | 'ip6'>): { mode: string; endpoints: Record<string, EndpointSettings> } {
  const given = (Array.isArray(f.network) ? f.network : f.network ? [f.network] : []).map(parseNetworkFlag);
  const list: NetworkAttachment[] = given.length ? given : [{ target: 'default', ep: {} }];
  const first = list[0];
  if (f.networkAlias?.length) {
    if (first.ep.Aliases?.length) throw new UsageError('conflicting options: cannot specify both --network-alias and per-network alias');
    first.ep.Aliases = [...f.networkAlias];
  }
  if (f.ip !== undefined) {
    if (first.ep.IPAMConfig?.IPv4Address) throw new UsageError('conflicting options: cannot specify both --ip and per-network IPv4 address');
    if (!isIP(f.ip.trim())) throw flagErr(f.ip, '--ip', `invalid string being converted to IP address: ${f.ip}`);
    if (isIP(f.ip.trim()) === 4) (first.ep.IPAMConfig ??= {}).IPv4Address = f.ip.trim();
  }
  if (f.ip6 !== undefined) {
    if (first.ep.IPAMConfig?.IPv6Address) throw new UsageError('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
    if (!isIP(f.ip6.trim())) throw flagErr(f.ip6, '--ip6', `invalid string being converted to IP address: ${f.ip6}`);
    (first.ep.IPAMConfig ??= {}).IPv6Address = f.ip6.trim();
  }
  const endpoints: Record<string, EndpointSettings> = {};
  let userDefined = false;
  let builtIn = false;
  list.forEach((a, i) => {
    if (!a.target.trim()) throw new UsageError('no name set for network');
    if (isUserDefinedNetwork(a.target)) userDefined = true; else builtIn = true;
    if (!isUserDefinedNetwork(a.target) && a.ep.Aliases?.length) throw new UsageError('network-scoped aliases are only supported for user-defined networks');
    if (a.target in endpoints) throw new UsageError(`network ${JSON.stringify(a.target)} is specified multiple times`);
    if (i === 0 && list.length === 1 && !Object.keys(a.ep).length) return;
    endpoints[a.target] = a.ep;
  });
  if (userDefined && builtIn) throw new UsageError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return { mode: first.target, endpoints };
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
