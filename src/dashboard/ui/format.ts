// What the dashboard shows and what its forms accept, as docker's CLI does it: sizes, ages, ports, CPU percentages;
// `-p`, `-m` and command-line parsing for the run form. No DOM here, so that it is tested on its own.

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}

export function ago(seconds: number, now = Date.now() / 1000): string {
  const d = Math.max(0, now - seconds);
  if (d < 60) return `${Math.floor(d)} seconds ago`;
  if (d < 3600) return `${Math.floor(d / 60)} minutes ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} hours ago`;
  return `${Math.floor(d / 86400)} days ago`;
}

export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export interface PortEntry { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

/** docker ps's PORTS column: 0.0.0.0:8080->80/tcp, 443/tcp. */
export function portsText(ports: PortEntry[]): string {
  return ports.map((p) => (p.PublicPort ? `${p.IP ?? '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

export interface PortPlan { ExposedPorts: Record<string, object>; PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> }

/** `-p` values, comma- or space-separated: [ip:][hostPort:]containerPort[/proto]; a bare port gets a random host port. */
export function parsePorts(text: string): PortPlan {
  const plan: PortPlan = { ExposedPorts: {}, PortBindings: {} };
  for (const spec of text.split(/[\s,]+/).filter(Boolean)) {
    const [addr, proto = 'tcp', ...rest] = spec.split('/');
    const parts = addr.split(':');
    const [ip, host, ctr] = parts.length === 3 ? parts : parts.length === 2 ? ['', parts[0], parts[1]] : ['', '', parts[0]];
    const port = (s: string) => /^\d{1,5}$/.test(s) && Number(s) > 0 && Number(s) < 65536;
    if (rest.length || parts.length > 3 || !port(ctr) || (host !== '' && !port(host)) || !['tcp', 'udp', 'sctp'].includes(proto)) {
      throw new Error(`invalid port mapping: ${spec} (use [ip:][hostPort:]containerPort[/tcp|udp])`);
    }
    const key = `${ctr}/${proto}`;
    plan.ExposedPorts[key] = {};
    (plan.PortBindings[key] ??= []).push({ HostIp: ip, HostPort: host });
  }
  return plan;
}

/** `-m` sizes: 512m, 1g, 1048576 (b, k, m, g; powers of 1024). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size: ${text} (e.g. 512m, 1g)`);
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** A command line as a shell splits words: whitespace, 'single' and "double" quotes, backslash escapes. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | '' = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") { quote = c; inWord = true; }
    else if (c === '\\' && i + 1 < text.length) { word += text[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) words.push(word); word = ''; inWord = false; }
    else { word += c; inWord = true; }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in the command`);
  if (inWord) words.push(word);
  return words;
}

/** Non-empty lines, trimmed (environment variables, volumes). */
export const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);

export interface StatsSample {
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** docker stats' CPU %: the container's share of the host's CPU time since the previous sample, times its CPUs. */
export function cpuPercent(s: StatsSample): number {
  if (!s.precpu_stats.system_cpu_usage) return 0; // no previous sample to compare with
  const cpu = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const system = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  return cpu > 0 && system > 0 ? (cpu / system) * cpus * 100 : 0;
}

/** docker stats' MEM USAGE: usage less the inactive file cache (cgroup v2 and v1 names). */
export function memoryUsed(s: StatsSample): number {
  const st = s.memory_stats.stats ?? {};
  const cache = st.inactive_file ?? st.total_inactive_file ?? 0;
  return Math.max(0, (s.memory_stats.usage ?? 0) - cache);
}
