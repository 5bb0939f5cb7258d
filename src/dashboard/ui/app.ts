// The dashboard app: a hash route per page (#/containers, #/containers/ID, #/images, #/networks, #/volumes, #/run),
// each drawn from the Engine API; timers a page starts stop when the user leaves it.
import { h, table, toast, facts } from './dom.js';
import { get, send, stream } from './api.js';
import { ago, humanSize, portsText, shortId, type PortEntry } from './format.js';
import { containerPage } from './container.js';
import { runPage } from './run.js';
import { buildPage } from './build.js';

export interface Page {
  main: HTMLElement;
  /** Run `fn` now and every `ms` while the page is shown. */
  every(ms: number, fn: () => Promise<void>): void;
  /** Draw the current route again. */
  reload(): void;
  /** Run `fn` when the user leaves the page (closing what it opened). */
  leave(fn: () => void): void;
}

interface ContainerSummary { Id: string; Names: string[]; Image: string; State: string; Status: string; Created: number; Ports: PortEntry[] }
interface ImageSummary { Id: string; RepoTags: string[] | null; Size: number; Created: number; Containers: number }
interface NetworkSummary { Id: string; Name: string; Driver: string; Scope: string; Internal: boolean; IPAM: { Config: Array<{ Subnet?: string; Gateway?: string }> | null } }
interface VolumeSummary { Name: string; Driver: string; Mountpoint: string; CreatedAt?: string }

const PREDEFINED_NETWORKS = new Set(['bridge', 'host', 'none']);

/** A button that runs `fn`, shows what went wrong, then redraws the page. */
export function action(label: string, fn: () => Promise<unknown>, page: Page, opts: { danger?: boolean; confirm?: string; primary?: boolean } = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', class: opts.danger ? 'danger' : opts.primary ? 'primary' : undefined }, label);
  b.addEventListener('click', async () => {
    if (opts.confirm && !window.confirm(opts.confirm)) return;
    b.disabled = true;
    try { await fn(); } catch (e) { toast((e as Error).message); }
    b.disabled = false;
    page.reload();
  });
  return b;
}

/** What can be done to a container in its state, as buttons. */
export function containerActions(c: { Id: string; State: string; Name: string }, page: Page, after?: () => void): HTMLElement[] {
  const post = (verb: string) => () => send('POST', `/containers/${c.Id}/${verb}`);
  const running = c.State === 'running';
  return [
    c.State === 'paused' ? action('Unpause', post('unpause'), page) : null,
    running ? action('Stop', post('stop'), page) : null,
    running ? action('Restart', post('restart'), page) : null,
    running ? action('Pause', post('pause'), page) : null,
    running ? action('Kill', post('kill'), page) : null,
    !running && c.State !== 'paused' ? action('Start', post('start'), page) : null,
    action('Remove', async () => { await send('DELETE', `/containers/${c.Id}?force=1&v=1`); after?.(); }, page, { danger: true, confirm: `Remove container ${c.Name}${running ? ' (it is running: it will be killed)' : ''}?` }),
  ].filter((b): b is HTMLButtonElement => b !== null);
}

export const stateBadge = (state: string) => h('span', { class: `badge ${state}` }, state);

async function homePage(p: Page): Promise<void> {
  const [info, version, volumes, networks] = await Promise.all([
    get<Record<string, unknown>>('/info'),
    get<Record<string, string>>('/version'),
    get<{ Volumes: VolumeSummary[] | null }>('/volumes'),
    get<NetworkSummary[]>('/networks'),
  ]);
  const n = (k: string) => Number(info[k] ?? 0);
  const card = (href: string, title: string, count: number, sub: string) => h('a', { class: 'card', href }, h('div', { class: 'muted' }, title), h('div', { class: 'n' }, count), h('div', { class: 'sub' }, sub));
  p.main.append(
    h('h1', {}, String(info.Name ?? 'tugboat')),
    h('div', { class: 'cards' },
      card('#/containers', 'Containers', n('Containers'), `${n('ContainersRunning')} running · ${n('ContainersPaused')} paused · ${n('ContainersStopped')} stopped`),
      card('#/images', 'Images', n('Images'), 'local images'),
      card('#/networks', 'Networks', networks.length, `${networks.filter((x) => !PREDEFINED_NETWORKS.has(x.Name)).length} user-defined`),
      card('#/volumes', 'Volumes', (volumes.Volumes ?? []).length, 'named and anonymous')),
    facts([
      ['Engine', `tugboat ${version.Version} (API ${version.ApiVersion}, minimum ${version.MinAPIVersion})`],
      ['Kernel', `${String(info.OperatingSystem ?? '')} · ${String(info.KernelVersion ?? '')}`],
      ['CPUs', n('NCPU')],
      ['Memory', humanSize(n('MemTotal'))],
      ['Storage driver', String(info.Driver ?? '')],
      ['Cgroups', `${String(info.CgroupDriver ?? '')} driver, version ${String(info.CgroupVersion ?? '')}`],
      ['Default runtime', String(info.DefaultRuntime ?? '')],
      ['Data root', String(info.DockerRootDir ?? '')],
    ]));
}

async function containersPage(p: Page): Promise<void> {
  const all = localStorage.getItem('tugboat.showAll') !== '0';
  const toggle = h('input', { type: 'checkbox', id: 'show-all', checked: all });
  toggle.addEventListener('change', () => { localStorage.setItem('tugboat.showAll', toggle.checked ? '1' : '0'); p.reload(); });
  const list = h('div');
  p.main.append(h('h1', {}, 'Containers'),
    h('div', { class: 'toolbar' }, h('a', { class: 'button primary', href: '#/run' }, 'Add container'), h('label', {}, toggle, ' Show stopped containers')),
    list);
  p.every(3000, async () => {
    const cs = await get<ContainerSummary[]>(`/containers/json?all=${all ? 1 : 0}`);
    list.replaceChildren(table(['Name', 'State', 'Status', 'Image', 'Ports', 'Created', ''], cs.map((c) => {
      const name = c.Names[0]?.replace(/^\//, '') ?? shortId(c.Id);
      return [h('a', { href: `#/containers/${c.Id}` }, name), stateBadge(c.State), c.Status, c.Image, portsText(c.Ports), ago(c.Created),
        containerActions({ Id: c.Id, State: c.State, Name: name }, p)];
    }), 'No containers.'));
  });
}

async function imagesPage(p: Page): Promise<void> {
  const list = h('div');
  const refresh = async () => {
    const images = await get<ImageSummary[]>('/images/json');
    list.replaceChildren(table(['Tags', 'ID', 'Size', 'Created', ''], images.map((i) => [
      (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>').join(', ') || h('span', { class: 'muted' }, '<none>'),
      h('span', { class: 'mono' }, shortId(i.Id)), humanSize(i.Size), ago(i.Created),
      [action('Remove', () => send('DELETE', `/images/${encodeURIComponent(i.Id)}`), p, { danger: true, confirm: `Remove image ${(i.RepoTags ?? [])[0] ?? shortId(i.Id)}?` })],
    ]), 'No images: pull one above.'));
  };
  const name = h('input', { name: 'image', placeholder: 'busybox:latest', required: true, 'aria-label': 'image to pull' });
  const progress = h('pre', { hidden: true });
  const form = h('form', { class: 'inline' }, name, h('button', { type: 'submit', class: 'primary' }, 'Pull'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ref = name.value.trim();
    progress.hidden = false;
    progress.textContent = '';
    try {
      await pull(ref, (line) => { progress.textContent += `${line}\n`; });
      toast(`Pulled ${ref}`, 'info');
    } catch (e) { toast((e as Error).message); }
    await refresh();
  });
  p.main.append(h('h1', {}, 'Images'), h('div', { class: 'toolbar' }, form, h('a', { class: 'button', href: '#/build' }, 'Build an image')), progress, list);
  await refresh();
}

/** POST /images/create, its progress as text lines ("<id>: <status> <progress>"). */
export async function pull(ref: string, line: (s: string) => void): Promise<void> {
  const at = ref.lastIndexOf(':');
  const [image, tag] = at > ref.lastIndexOf('/') ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
  await stream('POST', `/images/create?fromImage=${encodeURIComponent(image)}&tag=${encodeURIComponent(tag)}`, (m) => {
    line([m.id ? `${String(m.id)}: ` : '', String(m.status ?? ''), m.progress ? ` ${String(m.progress)}` : ''].join(''));
  });
}

async function networksPage(p: Page): Promise<void> {
  const networks = await get<NetworkSummary[]>('/networks');
  const name = h('input', { name: 'name', placeholder: 'name', required: true, 'aria-label': 'network name' });
  const subnet = h('input', { name: 'subnet', placeholder: 'subnet (optional), e.g. 10.42.0.0/24', 'aria-label': 'subnet' });
  const internal = h('input', { type: 'checkbox', name: 'internal' });
  const form = h('form', { class: 'inline' }, name, subnet, h('label', {}, internal, ' internal'), h('button', { type: 'submit', class: 'primary' }, 'Create network'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await send('POST', '/networks/create', { Name: name.value.trim(), Driver: 'bridge', Internal: internal.checked, ...(subnet.value.trim() ? { IPAM: { Config: [{ Subnet: subnet.value.trim() }] } } : {}) });
      p.reload();
    } catch (e) { toast((e as Error).message); }
  });
  p.main.append(h('h1', {}, 'Networks'), h('div', { class: 'toolbar' }, form),
    table(['Name', 'Driver', 'Subnet', 'Gateway', 'Internal', 'ID', ''], networks.map((n) => [
      n.Name, n.Driver, n.IPAM.Config?.[0]?.Subnet ?? '', n.IPAM.Config?.[0]?.Gateway ?? '', n.Internal ? 'yes' : 'no', h('span', { class: 'mono' }, shortId(n.Id)),
      PREDEFINED_NETWORKS.has(n.Name) ? [] : [action('Remove', () => send('DELETE', `/networks/${n.Id}`), p, { danger: true, confirm: `Remove network ${n.Name}?` })],
    ])));
}

async function volumesPage(p: Page): Promise<void> {
  const { Volumes } = await get<{ Volumes: VolumeSummary[] | null }>('/volumes');
  const name = h('input', { name: 'name', placeholder: 'name (optional)', 'aria-label': 'volume name' });
  const form = h('form', { class: 'inline' }, name, h('button', { type: 'submit', class: 'primary' }, 'Create volume'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await send('POST', '/volumes/create', name.value.trim() ? { Name: name.value.trim() } : {}); p.reload(); } catch (e) { toast((e as Error).message); }
  });
  p.main.append(h('h1', {}, 'Volumes'), h('div', { class: 'toolbar' }, form),
    table(['Name', 'Driver', 'Mount point', 'Created', ''], (Volumes ?? []).map((v) => [
      h('span', { class: 'mono' }, v.Name), v.Driver, h('span', { class: 'mono' }, v.Mountpoint), v.CreatedAt ? ago(Date.parse(v.CreatedAt) / 1000) : '',
      [action('Remove', () => send('DELETE', `/volumes/${encodeURIComponent(v.Name)}`), p, { danger: true, confirm: `Remove volume ${v.Name}?` })],
    ]), 'No volumes.'));
}

interface EngineEvent { Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; time: number; timeNano: number }

/** The last hour of docker events, newest first, brought up to date every few seconds. */
async function eventsPage(p: Page): Promise<void> {
  const list = h('div');
  p.main.append(h('h1', {}, 'Events'), h('p', { class: 'muted' }, 'The last hour, newest first.'), list);
  p.every(5000, async () => {
    const now = Math.floor(Date.now() / 1000);
    const all: EngineEvent[] = [];
    await stream('GET', `/events?since=${now - 3600}&until=${now}`, (m) => { all.push(m as unknown as EngineEvent); });
    const events = all.reverse().slice(0, 300);
    list.replaceChildren(table(['Time', 'Type', 'Action', 'Object', 'Details'], events.map((e) => {
      const attrs = { ...(e.Actor.Attributes ?? {}) };
      const name = attrs.name ?? '';
      delete attrs.name;
      return [new Date(e.time * 1000).toLocaleTimeString(), e.Type, e.Action, name || shortId(e.Actor.ID),
        h('span', { class: 'mono' }, Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(' '))];
    }), 'No events in the last hour.'));
  });
}

let timers: number[] = [];
const leaving: Array<() => void> = [];

async function route(): Promise<void> {
  for (const t of timers) window.clearInterval(t);
  timers = [];
  for (const fn of leaving.splice(0)) fn();
  const hash = location.hash.replace(/^#/, '') || '/';
  // each drawing has an element of its own: one still loading when the user moves on draws where nobody sees it
  const main = h('div');
  document.getElementById('view')!.replaceChildren(main);
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('href') === `#${hash.split('/').slice(0, 2).join('/')}`);
  const mine = timers;
  const page: Page = {
    main,
    every(ms, fn) {
      const run = () => fn().catch((e: Error) => toast(e.message));
      void run();
      if (timers === mine) timers.push(window.setInterval(run, ms));
    },
    reload: () => void route(),
    leave: (fn) => { leaving.push(fn); },
  };
  const container = /^\/containers\/([0-9a-f]{64})$/.exec(hash);
  try {
    if (container) await containerPage(page, container[1]);
    else if (hash === '/containers') await containersPage(page);
    else if (hash === '/images') await imagesPage(page);
    else if (hash === '/networks') await networksPage(page);
    else if (hash === '/volumes') await volumesPage(page);
    else if (hash === '/run') await runPage(page);
    else if (hash === '/build') await buildPage(page);
    else if (hash === '/events') await eventsPage(page);
    else await homePage(page);
  } catch (e) { toast((e as Error).message); }
}

window.addEventListener('hashchange', () => void route());
document.getElementById('logout')!.addEventListener('click', async () => {
  await fetch('/logout', { method: 'POST', headers: { 'X-Tugboat-Dashboard': '1' } });
  location.href = '/login';
});
void route();
