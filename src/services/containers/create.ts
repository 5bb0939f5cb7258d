// Turns a POST /containers/create body into a container record: merge with the image config,
// validate like docker (same messages), choose a name.
import { parseBindings, type PortBindings } from '../network/ports.js';
import { cpus, hostname } from 'node:os';
import type { Image } from '../images/types.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from './types.js';
import type { EndpointRequest } from '../network/types.js';
import { badRequest } from '../../util/errors.js';
import { newId } from '../../util/ids.js';
import { logLimits } from '../logs/rotate.js';
import { deviceCgroupRule, resources } from '../runtime/spec.js';
import { validateNamespaceModes } from './namespaces.js';
import { DEFAULT_PATH, overrideEnv } from './environment.js';

export interface CreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointRequest | null> | null } | null;
  /** API < 1.44: the first network's MAC address. */
  MacAddress?: string;
}

function mergeEnv(image: string[] = [], user: string[] = []): string[] {
  const out = overrideEnv(image, user);
  return out.some((kv) => kv.startsWith('PATH=')) ? out : [...out, DEFAULT_PATH];
}

/** docker's restart policy rules (create and update). */
export function validateRestartPolicy(h: HostConfig): void {
  const rp = h.RestartPolicy;
  if (rp && rp.Name) {
    if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(rp.Name)) throw badRequest(`invalid restart policy: unknown policy '${rp.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
    if (rp.Name !== 'on-failure' && rp.MaximumRetryCount) throw badRequest(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if ((rp.MaximumRetryCount ?? 0) < 0) throw badRequest('invalid restart policy: maximum retry count cannot be negative');
    if (rp.Name !== 'no' && h.AutoRemove) throw badRequest(`can't create 'AutoRemove' container with restart policy`);
  }
}

export function validateHostConfig(h: HostConfig, runtimes: string[]): void {
  // the limits' own rules live with the spec builder, which applies them at start and update
  resources(h, true);
  if (h.NanoCpus) {
    const n = cpus().length;
    if (h.NanoCpus > n * 1e9) throw badRequest(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  }
  if (h.CpuShares && h.CpuShares < 0) throw badRequest('invalid CPU shares');
  if (h.CpusetCpus && !/^(\d+(-\d+)?)(,\d+(-\d+)?)*$/.test(h.CpusetCpus)) throw badRequest(`Invalid value ${h.CpusetCpus} for cpuset cpus`);
  validateRestartPolicy(h);
  validateNamespaceModes(h);
  for (const rule of h.DeviceCgroupRules ?? []) deviceCgroupRule(rule);
  // no user-namespace remapping, quotas, other isolation technologies or device drivers here: said, not ignored
  if (h.UsernsMode && h.UsernsMode !== 'host') throw badRequest(`invalid USER mode: ${h.UsernsMode} (the daemon runs without userns-remap; only "host" applies)`);
  if (h.StorageOpt && Object.keys(h.StorageOpt).length) throw badRequest("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
  if (h.Isolation && h.Isolation !== 'default') throw badRequest(`Invalid isolation: "${h.Isolation}" - linux only supports 'default'`);
  if (h.DeviceRequests?.length) throw badRequest('could not select device driver "" with capabilities: [[gpu]]');
  for (const [k, v] of Object.entries(h.Annotations ?? {})) if (!k || typeof v !== 'string') throw badRequest(`invalid annotation ${JSON.stringify(k)}: expected a key and a string value`);
  if (h.Runtime && !runtimes.includes(h.Runtime)) throw badRequest(`unknown or invalid runtime name: ${h.Runtime}`);
  const lt = h.LogConfig?.Type;
  if (lt && !['json-file', 'k8s-file', 'local', 'none'].includes(lt)) throw badRequest(`logger: no log driver named '${lt}' is registered`);
  try { logLimits(h.LogConfig?.Config); } catch (e) { throw badRequest((e as Error).message); }
  // refuse, rather than silently drop, what this engine cannot do yet
  const ports = h.PortBindings as PortBindings | null | undefined;
  if (ports && Object.keys(ports).length > 0 && (h.NetworkMode === 'host' || h.NetworkMode === 'none')) throw badRequest(`published ports need a network: --network ${h.NetworkMode} has none`);
  parseBindings(ports);
  const nm = h.NetworkMode ?? '';
  if (nm.startsWith('container:') && (ports && Object.keys(ports).length > 0)) throw badRequest('conflicting options: port publishing and the container type network mode');
  if (nm.startsWith('container:') && (h.Dns as string[] | undefined)?.length) throw badRequest('conflicting options: dns and the network mode');
  if (nm.startsWith('container:') && (h.ExtraHosts as string[] | undefined)?.length) throw badRequest('conflicting options: custom host-to-IP mapping and the network mode');
  for (const e of (h.ExtraHosts as string[] | undefined) ?? []) {
    const i = e.search(/[:=]/);
    if (i <= 0 || !e.slice(i + 1)) throw badRequest(`invalid extra host "${e}": expected host:ip`);
  }
}

type Healthcheck = NonNullable<ContainerConfig['Healthcheck']>;

/** docker's rule: the container's check overrides the image's field by field (an empty Test keeps the image's). */
export function mergeHealthcheck(user: Healthcheck | undefined, image: Healthcheck | undefined): Healthcheck | undefined {
  if (user) validateHealthcheck(user);
  if (!user || !image) return user ?? image;
  return {
    Test: user.Test?.length ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    StartInterval: user.StartInterval || image.StartInterval,
    Retries: user.Retries || image.Retries,
  };
}

function validateHealthcheck(h: Healthcheck): void {
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = h[k] ?? 0;
    if (v !== 0 && v < 1e6) throw badRequest(`${k} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw badRequest('Retries in Healthcheck cannot be negative');
}

export function buildRecord(body: CreateBody, image: Image, name: string, imageRef: string, runtimes: string[], defaultRuntime: string, logRoot: (id: string) => string): ContainerRecord {
  const host: HostConfig = { ...(body.HostConfig ?? {}) };
  validateHostConfig(host, runtimes);
  const ic = image.config.config ?? {};
  const { HostConfig: _h, NetworkingConfig: _n, ...cfgIn } = body;
  const cfg: ContainerConfig = { ...cfgIn };

  const userEntrypoint = cfg.Entrypoint !== undefined && cfg.Entrypoint !== null;
  const entrypoint = userEntrypoint ? (cfg.Entrypoint as string[]) : (ic.Entrypoint ?? []);
  const entrypointCleared = userEntrypoint && entrypoint.length === 1 && entrypoint[0] === '';
  const cmd = cfg.Cmd && cfg.Cmd.length > 0 ? cfg.Cmd : userEntrypoint ? [] : (ic.Cmd ?? []);
  const argv = [...(entrypointCleared ? [] : entrypoint), ...cmd];
  if (argv.length === 0) throw badRequest('No command specified');

  const id = newId();
  const hostUts = host.UTSMode === 'host';
  if (hostUts && cfg.Hostname) throw badRequest('conflicting options: hostname and the UTS mode');
  const merged: ContainerConfig = {
    Hostname: cfg.Hostname || (hostUts ? hostname() : id.slice(0, 12)),
    Domainname: cfg.Domainname ?? '',
    User: cfg.User ?? ic.User ?? '',
    AttachStdin: !!cfg.AttachStdin,
    AttachStdout: !!cfg.AttachStdout,
    AttachStderr: !!cfg.AttachStderr,
    ExposedPorts: cfg.ExposedPorts ?? ic.ExposedPorts ?? undefined,
    Tty: !!cfg.Tty,
    OpenStdin: !!cfg.OpenStdin,
    StdinOnce: !!cfg.StdinOnce,
    Env: mergeEnv(ic.Env ?? [], cfg.Env ?? []),
    Cmd: cmd.length ? cmd : null,
    Image: imageRef,
    // -v /path adds to the image's VOLUMEs
    Volumes: cfg.Volumes || ic.Volumes ? { ...(ic.Volumes ?? {}), ...(cfg.Volumes ?? {}) } : null,
    WorkingDir: cfg.WorkingDir || ic.WorkingDir || '',
    Entrypoint: entrypointCleared ? null : entrypoint.length ? entrypoint : null,
    OnBuild: null,
    Labels: { ...(ic.Labels ?? {}), ...(cfg.Labels ?? {}) },
    StopSignal: cfg.StopSignal || ic.StopSignal || undefined,
    StopTimeout: cfg.StopTimeout,
    Healthcheck: mergeHealthcheck(cfg.Healthcheck, ic.Healthcheck),
    Shell: cfg.Shell ?? ic.Shell ?? undefined,
  };
  host.RestartPolicy = host.RestartPolicy?.Name ? host.RestartPolicy : { Name: 'no', MaximumRetryCount: 0 };
  host.NetworkMode = host.NetworkMode || 'default';
  host.IpcMode = host.IpcMode || 'private'; // the daemon default docker shows
  host.Runtime = host.Runtime || defaultRuntime;
  host.LogConfig = { Type: host.LogConfig?.Type || 'json-file', Config: host.LogConfig?.Config ?? {} };
  return {
    Id: id,
    Name: name,
    Created: new Date().toISOString(),
    Path: argv[0],
    Args: argv.slice(1),
    Image: image.id,
    Config: merged,
    HostConfig: host,
    State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' },
    RestartCount: 0,
    LogPath: logRoot(id),
    Driver: 'overlay2',
  };
}
