// A container's root filesystem: overlayfs with the image's layer snapshots as lowerdirs and a
// per-container upper/work dir (copy-on-write), plus the /etc files the engine manages.
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mount, umount, umountAsync, MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../../sys/libc.js';
import type { ContainerRecord } from './types.js';
import type { LinkedHost } from './links.js';
import { parseResolvConf } from '../../util/resolvconf.js';

export interface RootfsPaths { rootfs: string; upper: string; work: string }

export function rootfsPaths(dir: string): RootfsPaths {
  return { rootfs: join(dir, 'rootfs'), upper: join(dir, 'diff'), work: join(dir, 'work') };
}

/** A mount point sits on another device than its parent directory: O(1), unlike reading mountinfo. */
async function isMounted(path: string, parent: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(path), fs.stat(parent)]);
  return a.dev !== b.dev;
}

export async function mountRootfs(dir: string, lowerDirs: string[]): Promise<string> {
  const p = rootfsPaths(dir);
  await Promise.all([p.rootfs, p.upper, p.work].map((d) => fs.mkdir(d, { recursive: true })));
  if (await isMounted(p.rootfs, dir)) return p.rootfs;
  let lowers = lowerDirs;
  if (lowers.length === 0) {
    // overlayfs needs at least one lower layer: an empty one stands in for `scratch`
    const empty = join(dir, 'empty');
    await fs.mkdir(empty, { recursive: true });
    lowers = [empty];
  }
  mount('overlay', p.rootfs, 'overlay', 0, `lowerdir=${lowers.join(':')},upperdir=${p.upper},workdir=${p.work}`);
  return p.rootfs;
}

/** The rootfs, and a shareable /dev/shm when there is one. */
export async function unmountRootfs(dir: string): Promise<void> {
  try { umount(shmPath(dir), MNT_DETACH); } catch { /* not shareable, or not mounted */ }
  await umountAsync(rootfsPaths(dir).rootfs, MNT_DETACH);
}

/** A shareable container's /dev/shm (--ipc shareable): a tmpfs on the host side, which `--ipc container:` binds too. */
export const shmPath = (dir: string) => join(dir, 'shm');

export async function mountShareableShm(dir: string, size: number): Promise<string> {
  const p = shmPath(dir);
  await fs.mkdir(p, { recursive: true });
  if (!(await isMounted(p, dir))) mount('shm', p, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${size}`);
  return p;
}

/** /etc/hostname, /etc/hosts and /etc/resolv.conf, kept outside the rootfs and bind-mounted in; a container sharing
 *  another's network namespace (`sharedDir`) gets a copy of that one's files, as in docker. */
export async function writeEtcFiles(dir: string, rec: ContainerRecord, sharedDir?: string, links: LinkedHost[] = []): Promise<Array<{ source: string; destination: string }>> {
  const names = [['hostname', '/etc/hostname'], ['hosts', '/etc/hosts'], ['resolv.conf', '/etc/resolv.conf']] as const;
  if (sharedDir) {
    await Promise.all(names.map(([n]) => fs.copyFile(join(sharedDir, n), join(dir, n))));
    return names.map(([n, destination]) => ({ source: join(dir, n), destination }));
  }
  const content = etcFiles(rec, readHostResolvConf(), links);
  await Promise.all(names.map(([n]) => fs.writeFile(join(dir, n), content[n], { mode: 0o644 })));
  return names.map(([n, destination]) => ({ source: join(dir, n), destination }));
}

function readHostResolvConf(): string {
  try { return readFileSync('/etc/resolv.conf', 'utf8'); } catch { return ''; }
}

/** The files' text: the container's own name and addresses, --add-host and --link entries, and its resolvers. */
export function etcFiles(rec: ContainerRecord, hostResolv: string, links: LinkedHost[] = []): Record<'hostname' | 'hosts' | 'resolv.conf', string> {
  const host = rec.Config.Hostname ?? rec.Id.slice(0, 12);
  const fqdn = rec.Config.Domainname ? ` ${host}.${rec.Config.Domainname}` : '';
  const n = rec.NetworkSettings;
  const hostsLines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  if (rec.HostConfig.NetworkMode !== 'host') {
    const ips = Object.values(n?.Endpoints ?? {}).map((e) => e.IPAddress).filter(Boolean);
    for (const ip of ips.length ? ips : ['127.0.1.1']) hostsLines.push(`${ip}\t${host}${fqdn}`);
  }
  for (const h of (rec.HostConfig.ExtraHosts as string[] | undefined) ?? []) {
    const i = h.search(/[:=]/);
    if (i <= 0) continue;
    const name = h.slice(0, i);
    const ip = h.slice(i + 1) === 'host-gateway' ? n?.HostGateway ?? '' : h.slice(i + 1);
    if (ip) hostsLines.push(`${ip}\t${name}`);
  }
  for (const l of links) hostsLines.push(`${l.ip}\t${l.names.join(' ')}`);
  return { hostname: `${host}\n`, hosts: hostsLines.join('\n') + '\n', 'resolv.conf': resolvConf(rec, hostResolv) };
}

/** nameservers from the network (embedded DNS, or --dns / the host's for host and none), search and options from
 *  --dns-search / --dns-option or else the host's; resolvers on the host's loopback are useless inside a namespace. */
function resolvConf(rec: ContainerRecord, hostResolv: string): string {
  const host = parseResolvConf(hostResolv);
  const ownNamespace = rec.HostConfig.NetworkMode !== 'host';
  const servers = (rec.NetworkSettings?.Nameservers ?? []).filter((s) => !(ownNamespace && /^127\./.test(s)));
  const search = (rec.HostConfig.DnsSearch as string[] | undefined)?.length ? rec.HostConfig.DnsSearch as string[] : host.search;
  const options = (rec.HostConfig.DnsOptions as string[] | undefined)?.length ? rec.HostConfig.DnsOptions as string[] : host.options;
  return [
    ...servers.map((s) => `nameserver ${s}`),
    ...(search.length ? [`search ${search.join(' ')}`] : []),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
  ].join('\n') + '\n';
}
