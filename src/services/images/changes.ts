// `docker import/commit --change`: a handful of Dockerfile instructions applied to an image config.
import { parseGoDuration } from '../../util/units.js';
import { posix } from 'node:path';
import { badRequest } from '../../util/errors.js';
import type { ImageRunConfig } from './types.js';

const SUPPORTED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL', 'HEALTHCHECK'];

/** Split Dockerfile words: whitespace separates, quotes group, backslash escapes. Quotes are removed. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw badRequest(`unterminated quote in: ${s}`);
  if (inWord) words.push(cur);
  return words;
}

/** JSON array form if the text is a JSON array of strings, else undefined (then it is shell form). */
function jsonArray(s: string): string[] | undefined {
  if (!s.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* shell form */ }
  return undefined;
}

const execForm = (s: string): string[] => jsonArray(s) ?? ['/bin/sh', '-c', s];

/** "k=v k2=v2" or the legacy single "k v w" form, as ENV and LABEL accept. */
function keyValues(instr: string, rest: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length === 0) throw badRequest(`${instr} requires at least one argument`);
  if (!words[0].includes('=')) {
    // Legacy form: the first word is the key, the rest of the line (verbatim) the value.
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw badRequest(`${instr} must have two arguments`);
    return [[m[1], m[2].trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw badRequest(`${instr} names can not be blank` + (eq < 0 ? `: ${w}` : ''));
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function exposedPorts(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw badRequest(`invalid containerPort: ${w}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < 1 || hi > 65535 || hi < lo) throw badRequest(`invalid port range: ${w}`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${(m[3] ?? 'tcp').toLowerCase()}`);
  }
  return out;
}

/** `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D] [--retries=N] CMD …` or `NONE`. */
export function parseHealthcheck(rest: string): NonNullable<ImageRunConfig['Healthcheck']> {
  let s = rest.trim();
  const h: NonNullable<ImageRunConfig['Healthcheck']> = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S*)\s*/.exec(s);
    if (!m) break;
    s = s.slice(m[0].length);
    if (m[1] === 'retries') {
      const n = Number(m[2]);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`HEALTHCHECK: invalid --retries value: ${m[2]}`);
      h.Retries = n;
      continue;
    }
    const key = ({ interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' } as const)[m[1]];
    if (!key) throw badRequest(`HEALTHCHECK: unknown flag: --${m[1]}`);
    const secs = parseGoDuration(m[2]);
    if (secs === undefined || secs < 0) throw badRequest(`HEALTHCHECK: invalid --${m[1]} duration: ${m[2]}`);
    h[key] = Math.round(secs * 1e9);
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(s);
  const kind = (m?.[1] ?? '').toUpperCase();
  if (kind === 'NONE') {
    if (m?.[2]) throw badRequest('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD' || !m?.[2]) throw badRequest('HEALTHCHECK: expected NONE or CMD followed by a command');
  const argv = jsonArray(m[2]);
  h.Test = argv ? ['CMD', ...argv] : ['CMD-SHELL', m[2]];
  return h;
}

/** Returns a new config with the instructions applied in order. */
export function applyChanges(base: ImageRunConfig, changes: string[]): ImageRunConfig {
  const cfg: ImageRunConfig = structuredClone(base);
  // As in a Dockerfile, ENTRYPOINT resets CMD unless a CMD came in the same set of changes.
  let cmdSet = false;
  for (const raw of changes) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(line);
    const instr = (m?.[1] ?? '').toUpperCase();
    const rest = (m?.[2] ?? '').trim();
    if (!SUPPORTED.includes(instr)) throw badRequest(`${m?.[1] ?? line} is not a valid change command`);
    if (rest === '' && instr !== 'CMD' && instr !== 'ENTRYPOINT') throw badRequest(`${instr} requires at least one argument`);
    switch (instr) {
      case 'CMD':
        cfg.Cmd = rest === '' ? null : execForm(rest);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = rest === '' ? null : execForm(rest);
        if (!cmdSet) cfg.Cmd = null;
        break;
      case 'ENV': {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of keyValues('ENV', rest)) {
          const i = env.findIndex((e) => e.split('=', 1)[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues('LABEL', rest)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of exposedPorts(splitWords(rest))) ports[p] = {};
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(cfg.Volumes ?? {}) };
        for (const v of jsonArray(rest) ?? splitWords(rest)) {
          if (v.trim() === '') throw badRequest('VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        cfg.Volumes = vols;
        break;
      }
      case 'USER':
        cfg.User = rest;
        break;
      case 'WORKDIR':
        // A relative WORKDIR is relative to the previous one, as in a Dockerfile.
        cfg.WorkingDir = posix.resolve(cfg.WorkingDir || '/', splitWords(rest).join(' '));
        break;
      case 'STOPSIGNAL':
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(rest)) throw badRequest(`Invalid signal: ${rest}`);
        cfg.StopSignal = rest;
        break;
      case 'HEALTHCHECK':
        cfg.Healthcheck = parseHealthcheck(rest);
        break;
      case 'ONBUILD':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
    }
  }
  return cfg;
}
