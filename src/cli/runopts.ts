// `tug run`/`tug create` flags -> the POST /containers/create body, as the docker CLI maps them.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { parseBytes } from '../util/units.js';
import type { ContainerCreateBody, EndpointSettings, Mount, PortBinding } from '../client/types.js';
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
  /** --mount, docker's CSV form (repeatable). */
  mount?: string[];
  /** --volumes-from container[:ro|rw] (repeatable). */
  volumesFrom?: string[];
  volumeDriver?: string;
  /** --network / --net, each a name or docker's `name=…,alias=…,ip=…` form; the first is the NetworkMode. */
  network?: string | string[];
  /** --network-alias / --net-alias */
  networkAlias?: string[];
  ip?: string;
  macAddress?: string;
  ip6?: string;
  tmpfs?: string[];
  sysctl?: string[];
  addHost?: string[];
  dns?: string[];
  dnsSearch?: string[];
  groupAdd?: string[];
  labelFile?: string[];
  link?: string[];
  ulimit?: string[];
  device?: string[];
  cidfile?: string;
  pull?: string;
  quiet?: boolean;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetMems?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  blkioWeight?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  cgroupns?: string;
  blkioWeightDevice?: string[];
  deviceCgroupRule?: string[];
  annotation?: string[];
  userns?: string;
  storageOpt?: string[];
  isolation?: string;
  gpus?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  cgroupParent?: string;
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

/** "/dev/sda:RATE" (a weight, bytes or operations per second, as `rate` reads it) → docker's ThrottleDevice. */
function deviceLimit(v: string, flag: string, rate: (s: string, flag: string) => number): { Path: string; Rate: number } {
  const colon = v.lastIndexOf(':');
  if (colon <= 0) throw flagErr(v, flag, `bad format: ${v}`);
  const path = v.slice(0, colon);
  if (!path.startsWith('/dev/')) throw flagErr(v, flag, `bad format for device path: ${v}`);
  return { Path: path, Rate: rate(v.slice(colon + 1), flag) };
}

function intFlag(v: string, flag: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw flagErr(v, flag, `strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

export type ResourceFlags = Pick<RunFlags, 'memory' | 'memorySwap' | 'cpus' | 'cpuShares' | 'cpusetCpus' | 'pidsLimit' | 'cpuPeriod' | 'cpuQuota' | 'cpusetMems' | 'memoryReservation' | 'blkioWeight'>;

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
  if (f.cpuPeriod !== undefined) hc.CpuPeriod = intFlag(f.cpuPeriod, '--cpu-period');
  if (f.cpuQuota !== undefined) hc.CpuQuota = intFlag(f.cpuQuota, '--cpu-quota');
  if (f.cpusetMems !== undefined) hc.CpusetMems = f.cpusetMems;
  if (f.memoryReservation !== undefined) hc.MemoryReservation = bytesFlag(f.memoryReservation, '--memory-reservation');
  if (f.blkioWeight !== undefined) hc.BlkioWeight = intFlag(f.blkioWeight, '--blkio-weight');
  return hc;
}

/** A file named by a flag (--env-file, --label-file), or docker's message when it cannot be read. */
function readFlagFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
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
export function buildCreateRequest(image: string, args: string[], f: RunFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CreateRequest {
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
  for (const file of f.envFile ?? []) envList.push(...parseEnvFile(readFlagFile(file), env));
  for (const e of f.env ?? []) envList.push(envEntry(e, env));

  const labels: Record<string, string> = {};
  const labelLines = (f.labelFile ?? []).flatMap((file) => readFlagFile(file).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  for (const l of [...labelLines, ...(f.label ?? [])]) {
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
  const vols = volumeFlags(f.volume ?? [], cwd);
  if (vols.binds.length) hc.Binds = vols.binds;
  if (f.mount?.length) hc.Mounts = f.mount.map((m) => parseMount(m, cwd));
  if (f.volumesFrom?.length) hc.VolumesFrom = [...f.volumesFrom];
  if (f.volumeDriver) hc.VolumeDriver = f.volumeDriver;
  const net = networkOpts(f);
  hc.NetworkMode = net.mode;
  if (f.tmpfs?.length) {
    hc.Tmpfs = {};
    for (const t of f.tmpfs) { const i = t.indexOf(':'); hc.Tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }
  }
  const sysctls = (f.sysctl ?? []).reduce(setOnMap, undefined);
  if (sysctls) hc.Sysctls = sysctls;
  if (f.addHost?.length) hc.ExtraHosts = f.addHost.map(parseExtraHost);
  if (f.dns?.length) hc.Dns = f.dns.map((d) => { if (!isIP(d.trim())) throw flagErr(d, '--dns', `IP address is not correctly formatted: ${d}`); return d.trim(); });
  if (f.dnsSearch?.length) hc.DnsSearch = f.dnsSearch.map(dnsSearchEntry);
  if (f.dnsOption?.length) hc.DnsOptions = f.dnsOption;
  if (f.groupAdd?.length) hc.GroupAdd = f.groupAdd;
  if (f.link?.length) hc.Links = f.link;
  if (f.ulimit?.length) hc.Ulimits = f.ulimit.map(parseUlimit);
  if (f.device?.length) hc.Devices = f.device.map(parseDevice);
  if (f.deviceCgroupRule?.length) hc.DeviceCgroupRules = f.deviceCgroupRule; // checked by the daemon
  const annotations = (f.annotation ?? []).reduce(setOnMap, undefined);
  if (annotations) hc.Annotations = annotations;
  if (f.userns) hc.UsernsMode = f.userns;
  const storageOpt = (f.storageOpt ?? []).reduce(setOnMap, undefined);
  if (storageOpt) hc.StorageOpt = storageOpt;
  if (f.isolation) hc.Isolation = f.isolation;
  if (f.gpus) hc.DeviceRequests = [{ Driver: '', Count: f.gpus === 'all' ? -1 : Number(f.gpus) || 0, DeviceIDs: null, Capabilities: [['gpu']], Options: {} }];
  if (f.memorySwappiness !== undefined) hc.MemorySwappiness = intFlag(f.memorySwappiness, '--memory-swappiness');
  if (f.oomKillDisable) hc.OomKillDisable = true;
  if (f.oomScoreAdj !== undefined) hc.OomScoreAdj = intFlag(f.oomScoreAdj, '--oom-score-adj');
  if (f.pid) hc.PidMode = f.pid;
  if (f.ipc) hc.IpcMode = f.ipc;
  if (f.uts) hc.UTSMode = f.uts;
  if (f.cgroupns) hc.CgroupnsMode = f.cgroupns;
  if (f.blkioWeightDevice?.length) hc.BlkioWeightDevice = f.blkioWeightDevice.map((v) => { const d = deviceLimit(v, '--blkio-weight-device', intFlag); return { Path: d.Path, Weight: d.Rate }; });
  if (f.deviceReadBps?.length) hc.BlkioDeviceReadBps = f.deviceReadBps.map((v) => deviceLimit(v, '--device-read-bps', bytesFlag));
  if (f.deviceWriteBps?.length) hc.BlkioDeviceWriteBps = f.deviceWriteBps.map((v) => deviceLimit(v, '--device-write-bps', bytesFlag));
  if (f.deviceReadIops?.length) hc.BlkioDeviceReadIOps = f.deviceReadIops.map((v) => deviceLimit(v, '--device-read-iops', intFlag));
  if (f.deviceWriteIops?.length) hc.BlkioDeviceWriteIOps = f.deviceWriteIops.map((v) => deviceLimit(v, '--device-write-iops', intFlag));
  if (f.cgroupParent) hc.CgroupParent = f.cgroupParent;
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
  if (vols.volumes.length) body.Volumes = Object.fromEntries(vols.volumes.map((v) => [v, {}]));
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

// ---- -v / --volume and --mount ----

/** Go's %q of a string (as pflag quotes a flag's value in its errors). */
function goQuote(v: string): string {
  return JSON.stringify(v)
    .replace(/\\u0007/g, '\\a').replace(/\\u000b/g, '\\v')
    .replace(/\\u00([0-9a-f]{2})/g, '\\x$1').replace(/\u007f/g, '\\x7f');
}

const mountErr = (value: string, why: string) => new FlagError(`invalid argument ${goQuote(value)} for "--mount" flag: ${why}`);

const isLetter = (c: string | undefined) => c !== undefined && /^\p{L}$/u.test(c);

/** What docker's volumespec.Parse makes of a `-v` value: the source (empty for an anonymous volume) and the mount type. */
export interface VolumeSpec { source: string; target: string; type: 'bind' | 'volume' }

/** docker's isFilePath: a source naming a host path (., /, ~, \\\\, or a drive letter) is a bind; anything else a volume name. */
function isFilePath(source: string): boolean {
  if ('./~'.includes(source[0])) return true;
  const runes = [...source];
  if (runes.length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return isLetter(runes[0]) && runes[1] === ':';
}

/** A `-v` value parsed as docker's CLI does (its volumespec.Parse, which knows nothing of the daemon's platform). */
export function parseVolumeSpec(spec: string): VolumeSpec {
  const bytes = Buffer.byteLength(spec);
  if (bytes === 0) throw new UsageError('invalid empty volume spec');
  if (bytes <= 2) return { source: '', target: spec, type: 'volume' };
  let source = '';
  let target = '';
  let buffer: string[] = [];
  const END = '';
  for (const ch of [...spec, END]) {
    // a drive letter ("c:") stays in the section it starts
    if (ch === ':' && buffer.length === 1 && isLetter(buffer[0])) { buffer.push(ch); continue; }
    if (ch !== ':' && ch !== END) { buffer.push(ch); continue; }
    const section = buffer.join('');
    buffer = [];
    if (!section) throw new UsageError(`invalid spec: ${spec}: empty section between colons`);
    if (!source && ch === END) target = section; // an anonymous volume
    else if (!source) source = section;
    else if (!target) target = section;
    else if (ch === ':') throw new UsageError(`invalid spec: ${spec}: too many colons`);
    // the third section holds the mode (ro, rw, nocopy, propagation), left to the daemon
  }
  return { source, target, type: source && isFilePath(source) ? 'bind' : 'volume' };
}

/**
 * `-v` values → HostConfig.Binds (anything with a source: a host path or a volume name) and Config.Volumes
 * (anonymous volumes), as docker's CLI splits them; a relative host path ("./x", "../x") is made absolute
 * against the CLI's working directory. Repeated values count once.
 */
export function volumeFlags(specs: string[], cwd = process.cwd()): { binds: string[]; volumes: string[] } {
  const binds: string[] = [];
  const volumes: string[] = [];
  for (const spec of new Set(specs)) {
    const p = parseVolumeSpec(spec);
    if (!p.source) { volumes.push(spec); continue; }
    let bind = spec;
    const i = spec.indexOf(':');
    if (p.type === 'bind' && i >= 0) {
      const host = spec.slice(0, i);
      if (!isAbsolute(host) && host.startsWith('.')) bind = `${resolve(cwd, host)}${spec.slice(i)}`;
    }
    binds.push(bind);
  }
  return { binds, volumes };
}

class ParseError extends Error {}

/** The first record of a CSV text, read as Go's encoding/csv Reader does by default (its quoting rules and error messages). */
export function csvRecord(text: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').split(/(?<=\n)/);
  let next = 1;
  let line = lines[0] ?? '';
  let lineNo = 1;
  let col = 1;
  const fields: string[] = [];
  const bytes = (s: string) => Buffer.byteLength(s);
  const nl = (s: string) => (s.endsWith('\n') ? 1 : 0);
  const fail = (at: number, what: string) =>
    new ParseError(lineNo === 1 ? `parse error on line ${lineNo}, column ${at}: ${what}` : `record on line 1; parse error on line ${lineNo}, column ${at}: ${what}`);
  const BARE = 'bare " in non-quoted-field';
  const QUOTE = 'extraneous or missing " in quoted-field';
  field: for (;;) {
    if (!line.startsWith('"')) {
      const i = line.indexOf(',');
      const f = i >= 0 ? line.slice(0, i) : line.slice(0, line.length - nl(line));
      const q = f.indexOf('"');
      if (q >= 0) throw fail(col + bytes(f.slice(0, q)), BARE);
      fields.push(f);
      if (i < 0) break;
      line = line.slice(i + 1);
      col += bytes(f) + 1;
      continue;
    }
    line = line.slice(1);
    col += 1;
    let buf = '';
    for (;;) {
      const i = line.indexOf('"');
      if (i >= 0) {
        buf += line.slice(0, i);
        col += bytes(line.slice(0, i)) + 1;
        line = line.slice(i + 1);
        if (line.startsWith('"')) { buf += '"'; line = line.slice(1); col += 1; }
        else if (line.startsWith(',')) { line = line.slice(1); col += 1; fields.push(buf); continue field; }
        else if (line.length === nl(line)) { fields.push(buf); break field; }
        else throw fail(col - 1, QUOTE);
      } else if (line.length > 0) {
        buf += line;
        col += bytes(line);
        line = lines[next++] ?? '';
        if (line.length > 0) { lineNo++; col = 1; }
      } else throw fail(col, QUOTE);
    }
  }
  return fields;
}

/** go-units RAMInBytes: "64m", "1.5g", "512KiB", "100" (bytes); binary multiples. */
export function ramInBytes(v: string): number {
  const sep = Math.max(...[...'0123456789. '].map((c) => v.lastIndexOf(c)));
  if (sep < 0) throw new Error(`invalid size: '${v}'`);
  const num = v[sep] === ' ' ? v.slice(0, sep) : v.slice(0, sep + 1);
  let sfx = v.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${goQuote(num)}: invalid syntax`);
  let size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${v}'`);
  if (!sfx) return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') { if (sfx.length > 1) throw bad(); return Math.trunc(size); }
  const mul: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  if (!(sfx[0] in mul)) throw bad();
  size *= mul[sfx[0]];
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** docker's parseBoolValue for --mount options: a bare key is true; only 1/true/0/false otherwise. */
function mountBool(key: string, val: string, hasValue: boolean): boolean {
  if (!hasValue) return true;
  if (val === '1' || val === 'true') return true;
  if (val === '0' || val === 'false') return false;
  throw new Error(`invalid value for '${key}': invalid boolean value (${goQuote(val)}): must be one of "true", "1", "false", or "0" (default "true")`);
}

/** `k=v` into a map, as docker's setValueOnMap (an empty key is ignored). */
function setOnMap(m: Record<string, string> | undefined, kv: string): Record<string, string> | undefined {
  const i = kv.indexOf('=');
  const k = i < 0 ? kv : kv.slice(0, i);
  if (!k) return m;
  return { ...(m ?? {}), [k]: i < 0 ? '' : kv.slice(i + 1) };
}

const goTrim = (s: string) => s.replace(/^[\s\u0085]+|[\s\u0085]+$/g, '');

/**
 * One --mount value → a HostConfig.Mounts entry, as docker's CLI parses it (opts.MountOpt): CSV fields of
 * key=value (type defaults to volume), docker's checks and messages; a source starting with "." is made absolute.
 */
export function parseMount(value: string, cwd = process.cwd()): Mount {
  const v = goTrim(value);
  if (!v) throw mountErr(value, 'value is empty');
  let fields: string[];
  try { fields = csvRecord(v); } catch (e) { throw mountErr(value, (e as Error).message); }
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let consistency: string | undefined;
  let bind: NonNullable<Mount['BindOptions']> | undefined;
  let vol: NonNullable<Mount['VolumeOptions']> | undefined;
  let image: NonNullable<Mount['ImageOptions']> | undefined;
  let tmpfs: NonNullable<Mount['TmpfsOptions']> | undefined;
  const fail = (why: string) => mountErr(value, why);
  for (const field of fields) {
    const eq = field.indexOf('=');
    const hasValue = eq >= 0;
    const rawKey = hasValue ? field.slice(0, eq) : field;
    const val = hasValue ? field.slice(eq + 1) : '';
    const k = goTrim(rawKey);
    if (k !== rawKey) throw fail(`invalid option '${k}' in '${field}': option should not have whitespace`);
    if (hasValue) {
      const t = goTrim(val);
      if (!t) throw fail(`invalid value for '${rawKey}': value is empty`);
      if (t !== val) throw fail(`invalid value for '${rawKey}' in '${field}': value should not have whitespace`);
    }
    const key = rawKey.toLowerCase();
    if (!hasValue && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-src'].includes(key)) {
      throw fail(`invalid field '${field}' must be a key=value pair`);
    }
    try {
      switch (key) {
        case 'type': type = val.toLowerCase(); break;
        case 'source': case 'src':
          source = !isAbsolute(val) && val.startsWith('.') ? resolve(cwd, val) : val;
          break;
        case 'target': case 'dst': case 'destination': target = val; break;
        case 'readonly': case 'ro': readOnly = mountBool(key, val, hasValue); break;
        case 'consistency': consistency = val.toLowerCase(); break;
        case 'bind-propagation': (bind ??= {}).Propagation = val.toLowerCase(); break;
        case 'bind-nonrecursive': throw new Error('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
        case 'bind-recursive':
          switch (val) {
            case 'enabled': break;
            case 'disabled': (bind ??= {}).NonRecursive = true; break;
            case 'writable': (bind ??= {}).ReadOnlyNonRecursive = true; break;
            case 'readonly': (bind ??= {}).ReadOnlyForceRecursive = true; break;
            default: throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
          }
          break;
        case 'bind-create-src': (bind ??= {}).CreateMountpoint = mountBool(key, val, hasValue); break;
        case 'volume-subpath': (vol ??= {}).Subpath = val; break;
        case 'volume-nocopy': (vol ??= {}).NoCopy = mountBool(key, val, hasValue); break;
        case 'volume-label': vol ??= {}; vol.Labels = setOnMap(vol.Labels, val); break;
        case 'volume-driver': ((vol ??= {}).DriverConfig ??= {}).Name = val; break;
        case 'volume-opt': {
          const d = ((vol ??= {}).DriverConfig ??= {});
          d.Options = setOnMap(d.Options, val);
          break;
        }
        case 'image-subpath': (image ??= {}).Subpath = val; break;
        case 'tmpfs-size': {
          let n: number;
          try { n = ramInBytes(val); } catch { throw new Error(`invalid value for ${key}: ${val}`); }
          (tmpfs ??= {}).SizeBytes = n;
          break;
        }
        case 'tmpfs-mode':
          if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
          (tmpfs ??= {}).Mode = parseInt(val, 8);
          break;
        default: throw new Error(`unknown option '${key}' in '${field}'`);
      }
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  // docker's validateExclusiveOptions and validateMountOptions
  if (!type) throw fail('type is required');
  if (type !== 'bind' && bind) throw fail(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (type !== 'volume' && vol) throw fail(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (type !== 'image' && image) throw fail(`cannot mix 'image-*' options with mount type '${type}'`);
  if (type !== 'tmpfs' && tmpfs) throw fail(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (bind?.ReadOnlyNonRecursive && !readOnly) throw fail("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (bind?.ReadOnlyForceRecursive) {
    if (!readOnly) throw fail("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (bind.Propagation !== 'rprivate') throw fail("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  }
  // only what was given, as Go's omitempty leaves it (an options object once any of its keys was seen)
  const m: Mount = { Type: type };
  if (source) m.Source = source;
  if (target) m.Target = target;
  if (readOnly) m.ReadOnly = true;
  if (consistency) m.Consistency = consistency;
  if (bind) m.BindOptions = omitEmpty(bind);
  if (vol) {
    const o = omitEmpty(vol);
    if (vol.DriverConfig) o.DriverConfig = omitEmpty(vol.DriverConfig);
    m.VolumeOptions = o;
  }
  if (image) m.ImageOptions = omitEmpty(image);
  if (tmpfs) m.TmpfsOptions = omitEmpty(tmpfs);
  return m;
}

/** A copy without Go's "empty" values (false, 0, "", empty maps). */
function omitEmpty<T extends object>(o: T): T {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || v === 0 || v === '') continue;
    if (v && typeof v === 'object' && !Object.keys(v).length) continue;
    r[k] = v;
  }
  return r as T;
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
export function networkOpts(f: Pick<RunFlags, 'network' | 'networkAlias' | 'ip' | 'ip6' | 'macAddress'>): { mode: string; endpoints: Record<string, EndpointSettings> } {
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
  if (f.macAddress !== undefined) {
    if (first.ep.MacAddress) throw new UsageError('conflicting options: cannot specify both --mac-address and per-network MAC address');
    first.ep.MacAddress = f.macAddress.trim();
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

/** --ulimit name=soft[:hard] (hard defaults to soft), as docker's units.ParseUlimit. */
export function parseUlimit(v: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v.trim());
  if (!m) throw flagErr(v, '--ulimit', `invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard && hard !== -1) throw flagErr(v, '--ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1], Soft: soft, Hard: hard };
}

/** --device host-path[:container-path][:permissions], as docker's parseDevice. */
export function parseDevice(v: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = v.split(':');
  let perms = 'rwm';
  if (parts.length === 3 || (parts.length === 2 && /^[rwm]{1,3}$/.test(parts[1]))) perms = parts.pop()!;
  if (parts.length > 2 || !parts[0] || !/^[rwm]{1,3}$/.test(perms)) throw flagErr(v, '--device', `bad format for path: ${v}`);
  return { PathOnHost: parts[0], PathInContainer: parts[1] || parts[0], CgroupPermissions: perms };
}
