// tugd settings: command-line flags over /etc/tugboat/daemon.json (docker's keys) over defaults.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LOG_LIMITS, logLimits, type LogLimits } from '../services/logs/rotate.js';
import { DEFAULT_POOLS, parsePool, type AddressPool } from '../services/network/subnet.js';

export interface DaemonConfig {
  socket: string;
  dataRoot: string;
  execRoot: string;
  configFile: string;
  group: string;
  defaultRuntime: string;
  runtimes: Record<string, string>;
  conmon: string;
  logLimits: LogLimits;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The default bridge network: device name and docker's --bip ("gateway/prefix"), empty to choose one. */
  network: { bridge: string; bip: string; pools: AddressPool[]; bridgeMaxPorts: number; premade: number };
  /** daemon.json: insecure-registries, registry-mirrors, max-concurrent-downloads. */
  registry: { insecure: string[]; mirrors: string[]; concurrentDownloads: number };
  /** The web dashboard's TCP address (`host:port`), or undefined when it is off (the default). */
  dashboard?: { host: string; port: number };
  raw: Record<string, unknown>;
}

export const DEFAULT_SOCKET = '/run/tugboat/tugboat.sock';

function flagValue(argv: string[], names: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    for (const n of names) {
      if (argv[i] === n) return argv[i + 1];
      if (argv[i].startsWith(`${n}=`)) return argv[i].slice(n.length + 1);
    }
  }
  return undefined;
}

export const USAGE = `Usage: tugd [OPTIONS]

A Docker-compatible container engine daemon

Options:
  -H, --host string          Daemon socket to listen on (default unix://${DEFAULT_SOCKET})
      --data-root string     Root directory of persistent state (default /var/lib/tugboat)
      --exec-root string     Root directory for runtime state (default <data-root>/run)
      --config-file string   Daemon configuration file (default /etc/tugboat/daemon.json)
      --default-runtime      Default OCI runtime for containers (default runc)
      --group string         Group for the unix socket (default tugboat)
  -b, --bridge string        Bridge device of the default network (default tug0)
      --bip string           Its gateway address and prefix, e.g. 10.120.0.1/16 (default: a free 10.x.0.0/16)
      --default-address-pool base=CIDR,size=N
                             Where subnets of new networks come from (default 10.120.0.0/13 and 10.128.0.0/12 in /16s)
      --dashboard host:port  Serve the web dashboard there, e.g. 127.0.0.1:9000 (default: off)
  -l, --log-level string     Set the logging level (debug, info, warn, error) (default info)
  -h, --help                 Print usage
`;

const KNOWN = new Set(['-H', '--host', '--data-root', '--exec-root', '--config-file', '--default-runtime', '--group', '-l', '--log-level', '-b', '--bridge', '--bip', '--default-address-pool', '--dashboard']);

export function parseConfig(argv: string[]): DaemonConfig {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { process.stdout.write(USAGE); process.exit(0); }
    const name = a.split('=')[0];
    if (!KNOWN.has(name)) throw new Error(`unknown flag: ${a}\nSee 'tugd --help'.`);
    if (!a.includes('=')) i++;
  }
  const configFile = flagValue(argv, ['--config-file']) ?? '/etc/tugboat/daemon.json';
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new Error(`unable to configure the daemon with file ${configFile}: ${(e as Error).message}`, { cause: e });
  }
  const host = flagValue(argv, ['-H', '--host']) ?? (raw.hosts as string[] | undefined)?.[0] ?? `unix://${DEFAULT_SOCKET}`;
  if (!host.startsWith('unix://')) throw new Error(`only unix:// sockets are served without TLS: ${host}`);
  const dataRoot = flagValue(argv, ['--data-root']) ?? (raw['data-root'] as string | undefined) ?? '/var/lib/tugboat';
  const execRoot = flagValue(argv, ['--exec-root']) ?? (raw['exec-root'] as string | undefined) ?? join(dataRoot, 'run');
  const runtimes: Record<string, string> = { runc: '/usr/sbin/runc', crun: '/usr/bin/crun' };
  for (const [name, v] of Object.entries((raw.runtimes as Record<string, { path: string }>) ?? {})) runtimes[name] = v.path;
  const logOpts = (raw['log-opts'] as Record<string, string> | undefined) ?? {};
  const level = (flagValue(argv, ['-l', '--log-level']) ?? (raw['log-level'] as string | undefined) ?? 'info') as DaemonConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error(`invalid log level: ${level}`);
  return {
    socket: host.slice('unix://'.length),
    dataRoot,
    execRoot,
    configFile,
    group: flagValue(argv, ['--group']) ?? (raw.group as string | undefined) ?? 'tugboat',
    network: {
      bridge: flagValue(argv, ['--bridge', '-b']) ?? (raw.bridge as string | undefined) ?? 'tug0',
      bip: flagValue(argv, ['--bip']) ?? (raw.bip as string | undefined) ?? '',
      pools: addressPools(flagValue(argv, ['--default-address-pool']), raw['default-address-pools']),
      // a Linux bridge takes 1024 ports, but well before that a flooded frame (an ARP broadcast) copied to every
      // port overflows the kernel's per-CPU backlog (net.core.netdev_max_backlog, 1000) and replies get dropped:
      // a network grows onto another bridge past 250, so no single flood comes near it
      bridgeMaxPorts: positiveInt(raw['bridge-max-ports'], 'bridge-max-ports', 250),
      // namespaces made ahead per bridge network, so that a start costs no network setup (0: none)
      premade: nonNegativeInt(raw['network-premade-namespaces'], 'network-premade-namespaces', 2),
    },
    registry: {
      insecure: stringList(raw['insecure-registries'], 'insecure-registries'),
      mirrors: stringList(raw['registry-mirrors'], 'registry-mirrors'),
      concurrentDownloads: positiveInt(raw['max-concurrent-downloads'], 'max-concurrent-downloads', 3),
    },
    dashboard: dashboardAddress(flagValue(argv, ['--dashboard']) ?? (raw.dashboard as string | undefined)),
    defaultRuntime: flagValue(argv, ['--default-runtime']) ?? (raw['default-runtime'] as string | undefined) ?? 'runc',
    runtimes,
    conmon: '/usr/bin/conmon',
    logLimits: logLimits(logOpts, DEFAULT_LOG_LIMITS),
    logLevel: level,
    raw,
  };
}

function addressPools(flag: string | undefined, v: unknown): AddressPool[] {
  if (flag) return [parsePool(Object.fromEntries(flag.split(',').map((kv) => kv.split('=') as [string, string])))];
  if (v === undefined) return DEFAULT_POOLS;
  if (!Array.isArray(v)) throw new Error('invalid default-address-pools in daemon.json: expected a list of {"base": CIDR, "size": N}');
  return v.map((p) => parsePool(p as Record<string, unknown>));
}

/** `host:port`, `:port` (every interface) or `[v6]:port`; empty for off. */
export function dashboardAddress(v: unknown): DaemonConfig['dashboard'] {
  if (v === undefined || v === '') return undefined;
  const m = typeof v === 'string' ? /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`invalid dashboard address ${JSON.stringify(v)}: expected host:port, e.g. 127.0.0.1:9000`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function stringList(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`invalid ${key} in daemon.json: expected a list of strings`);
  return v;
}

function nonNegativeInt(v: unknown, key: string, dflt: number): number {
  return v === 0 ? 0 : positiveInt(v, key, dflt);
}

function positiveInt(v: unknown, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`invalid ${key} in daemon.json: expected a positive integer`);
  return v as number;
}
