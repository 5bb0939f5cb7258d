// One container: its state and actions, settings, networks, mounts, live figures (docker stats), processes
// (docker top), log tail (docker logs) and the whole inspect document.
import { h, table, facts } from './dom.js';
import { get, logs } from './api.js';
import { cpuPercent, humanSize, memoryUsed, type StatsSample } from './format.js';
import { containerActions, stateBadge, type Page } from './app.js';
import { consoleSection } from './console.js';

interface Inspect {
  Id: string; Name: string; Created: string; Path: string; Args: string[]; Image: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean; Health?: { Status: string; FailingStreak: number } };
  Config: { Image: string; Env: string[] | null; Tty: boolean; Labels: Record<string, string> | null; Cmd: string[] | null; Entrypoint: string[] | null; WorkingDir: string };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number }; Memory: number; NanoCpus: number };
  NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null; Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string }> };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
}

interface Stats extends StatsSample {
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  pids_stats?: { current?: number };
}

const when = (iso: string) => (!iso || iso.startsWith('0001-') ? '' : new Date(iso).toLocaleString());

export async function containerPage(p: Page, id: string): Promise<void> {
  const c = await get<Inspect>(`/containers/${id}/json`);
  const name = c.Name.replace(/^\//, '');
  const health = c.State.Health ? [' ', stateBadge(c.State.Health.Status)] : [];
  p.main.append(
    h('p', {}, h('a', { href: '#/containers' }, '← Containers')),
    h('h1', {}, name, ' ', stateBadge(c.State.Status), ...health),
    h('div', { class: 'toolbar' }, containerActions({ Id: c.Id, State: c.State.Status, Name: name }, p, () => { location.hash = '#/containers'; })),
    facts([
      ['ID', h('span', { class: 'mono' }, c.Id)],
      ['Image', c.Config.Image],
      ['Command', [...(c.Config.Entrypoint ?? []), ...(c.Config.Cmd ?? [])].join(' ')],
      ['Created', when(c.Created)],
      ['Started', when(c.State.StartedAt)],
      ['Finished', c.State.Running ? '' : `${when(c.State.FinishedAt)}${c.State.FinishedAt.startsWith('0001-') ? '' : ` · exit code ${c.State.ExitCode}${c.State.OOMKilled ? ' (OOM killed)' : ''}`}`],
      ['Restart policy', c.HostConfig.RestartPolicy.Name || 'no'],
      ['Limits', [c.HostConfig.Memory ? `memory ${humanSize(c.HostConfig.Memory)}` : '', c.HostConfig.NanoCpus ? `${c.HostConfig.NanoCpus / 1e9} CPUs` : ''].filter(Boolean).join(' · ') || 'none'],
      ['Working directory', c.Config.WorkingDir],
    ]));

  if (c.State.Running) {
    const figures = h('div', { class: 'stats' });
    p.main.append(h('h2', {}, 'Resources'), figures);
    p.every(2000, async () => {
      const s = await get<Stats>(`/containers/${id}/stats?stream=false`);
      const net = Object.values(s.networks ?? {}).reduce((a, n) => [a[0] + n.rx_bytes, a[1] + n.tx_bytes], [0, 0]);
      const io = (op: string) => (s.blkio_stats?.io_service_bytes_recursive ?? []).filter((e) => e.op.toLowerCase() === op).reduce((a, e) => a + e.value, 0);
      const used = memoryUsed(s);
      const limit = s.memory_stats.limit ?? 0;
      const box = (label: string, value: string) => h('div', {}, h('span', { class: 'muted' }, label), h('b', {}, value));
      figures.replaceChildren(
        box('CPU', `${cpuPercent(s).toFixed(2)}%`),
        box('Memory', `${humanSize(used)} / ${humanSize(limit)} (${limit ? ((used / limit) * 100).toFixed(2) : '0.00'}%)`),
        box('Net I/O', `${humanSize(net[0])} / ${humanSize(net[1])}`),
        box('Block I/O', `${humanSize(io('read'))} / ${humanSize(io('write'))}`),
        box('PIDs', String(s.pids_stats?.current ?? 0)));
    });
    p.main.append(h('h2', {}, 'Console'), consoleSection(id, p.leave));
    const procs = h('div');
    p.main.append(h('h2', {}, 'Processes'), procs);
    p.every(5000, async () => {
      const top = await get<{ Titles: string[]; Processes: string[][] }>(`/containers/${id}/top`);
      procs.replaceChildren(table(top.Titles, top.Processes));
    });
  }

  const ports = Object.entries(c.NetworkSettings.Ports ?? {});
  p.main.append(
    h('h2', {}, 'Networks'),
    table(['Network', 'IP address', 'Gateway', 'MAC address'], Object.entries(c.NetworkSettings.Networks ?? {}).map(([n, v]) => [n, v.IPAddress, v.Gateway, v.MacAddress]), 'No networks.'),
    h('h2', {}, 'Ports'),
    table(['Container port', 'Published on'], ports.map(([k, v]) => [k, (v ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}`).join(', ') || 'not published']), 'No ports.'),
    h('h2', {}, 'Mounts'),
    table(['Type', 'Source', 'Destination', 'Mode'], c.Mounts.map((m) => [m.Type, m.Name ?? m.Source, m.Destination, m.RW ? 'rw' : 'ro']), 'No mounts.'),
    h('h2', {}, 'Environment'),
    table(['Variable', 'Value'], (c.Config.Env ?? []).map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; })),
    h('h2', {}, 'Labels'),
    table(['Label', 'Value'], Object.entries(c.Config.Labels ?? {}).map(([k, v]) => [k, v]), 'No labels.'));

  const out = h('pre', { id: 'logs' });
  const stamps = h('input', { type: 'checkbox' });
  const follow = h('input', { type: 'checkbox', checked: c.State.Running });
  const showLogs = async () => {
    const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    out.textContent = (await logs(id, c.Config.Tty, 500, stamps.checked)) || '(no output yet)';
    if (atBottom) out.scrollTop = out.scrollHeight;
  };
  stamps.addEventListener('change', () => void showLogs());
  p.main.append(h('h2', {}, 'Logs'), h('div', { class: 'toolbar' }, h('label', {}, follow, ' Follow'), h('label', {}, stamps, ' Timestamps'), h('span', { class: 'muted' }, 'last 500 lines')), out);
  p.every(2000, async () => { if (follow.checked || !out.textContent) await showLogs(); });

  p.main.append(h('h2', {}, 'Inspect'), h('details', {}, h('summary', {}, 'docker inspect'), h('pre', {}, JSON.stringify(c, null, 2))));
}
