// Pure pieces of instruction evaluation: docker's forms of EXPOSE ports, HEALTHCHECK options, durations, and
// the texts docker writes into history (`/bin/sh -c #(nop)  CMD ["nginx"]`).
import type { ImageRunConfig } from '../images/types.js';
import type { Instruction } from './dockerfile.js';
import { BuildError } from './errors.js';

/** Go's %q of a string slice, as docker prints commands in history: ["a" "b"]. */
export const quotedList = (a: string[]) => `[${a.map((s) => JSON.stringify(s)).join(' ')}]`;

/** The history text of an instruction that changes only the config. */
export function nopCreatedBy(shell: string[], text: string): string {
  return `${shell.join(' ')} #(nop)  ${text}`;
}

/** Flags an instruction accepts; anything else is docker's "Unknown flag". */
export function checkFlags(ins: Instruction, allowed: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const f of ins.flags) {
    if (!allowed.includes(f.name)) throw new BuildError(`${ins.keyword.toLowerCase()}: Unknown flag: ${f.name}`);
    out.set(f.name, f.value);
  }
  return out;
}

/** "80", "80/udp", "8000-8002/tcp" → docker's port keys. */
export function exposedPorts(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw new BuildError(`Invalid containerPort: ${w}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < 1 || hi > 65535 || hi < lo) throw new BuildError(`Invalid containerPort: ${w}`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) { total += Number(m[1]) * UNITS[m[2]]; pos = re.lastIndex; }
  if (pos !== text.length || text === '') throw new BuildError(`time: invalid duration "${text}" for flag --${flag}`);
  return Math.round(total);
}

/** HEALTHCHECK's config (NONE disables the image's). */
export function healthcheck(ins: Instruction): NonNullable<ImageRunConfig['Healthcheck']> {
  const flags = checkFlags(ins, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
  const h = ins.health;
  if (!h) throw new BuildError('HEALTHCHECK requires an argument');
  if (h.none) {
    if (flags.size) throw new BuildError('HEALTHCHECK NONE takes no options');
    return { Test: ['NONE'] };
  }
  const out: NonNullable<ImageRunConfig['Healthcheck']> = { Test: h.json ? ['CMD', ...h.cmd] : ['CMD-SHELL', h.cmd.join(' ')] };
  const dur = (name: string, key: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval') => {
    const v = flags.get(name);
    if (v === undefined) return;
    const ns = parseDuration(v, name);
    if (ns !== 0 && ns < 1e6) throw new BuildError(`Interval "${name}" cannot be less than 1ms`);
    out[key] = ns;
  };
  dur('interval', 'Interval');
  dur('timeout', 'Timeout');
  dur('start-period', 'StartPeriod');
  dur('start-interval', 'StartInterval');
  const retries = flags.get('retries');
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries) || Number(retries) < 1) throw new BuildError('--retries cannot be 0 or negative');
    out.Retries = Number(retries);
  }
  return out;
}

/** Sets NAME=value in an env list, replacing an earlier NAME. */
export function setEnv(env: string[], name: string, value: string): string[] {
  const out = env.filter((e) => e.split('=', 1)[0] !== name);
  out.push(`${name}=${value}`);
  return out;
}

export function envValue(env: string[] | undefined, name: string): string | undefined {
  for (let i = (env?.length ?? 0) - 1; i >= 0; i--) {
    const e = env![i];
    const eq = e.indexOf('=');
    if ((eq < 0 ? e : e.slice(0, eq)) === name) return eq < 0 ? '' : e.slice(eq + 1);
  }
  return undefined;
}

/** Args docker passes to RUN without an ARG line, and leaves out of the cache key and history. */
export const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
