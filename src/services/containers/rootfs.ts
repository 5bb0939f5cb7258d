// A container's root filesystem: overlayfs with the image's layer snapshots as lowerdirs and a
// per-container upper/work dir (copy-on-write), plus the /etc files the engine manages.
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mount, umount, MNT_DETACH } from '../../sys/libc.js';
import type { ContainerRecord } from './types.js';

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

export function unmountRootfs(dir: string): void {
  umount(rootfsPaths(dir).rootfs, MNT_DETACH);
}

/** /etc/hostname, /etc/hosts and /etc/resolv.conf, kept outside the rootfs and bind-mounted in. */
export async function writeEtcFiles(dir: string, rec: ContainerRecord): Promise<Array<{ source: string; destination: string }>> {
  const host = rec.Config.Hostname ?? rec.Id.slice(0, 12);
  const hostsLines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  if (rec.HostConfig.NetworkMode !== 'host') hostsLines.push(`${rec.NetworkSettings?.IPAddress || '127.0.1.1'}\t${host}${rec.Config.Domainname ? ` ${host}.${rec.Config.Domainname}` : ''}`);
  for (const h of (rec.HostConfig.ExtraHosts as string[] | undefined) ?? []) {
    const [name, ip] = h.split(':');
    if (name && ip) hostsLines.push(`${ip}\t${name}`);
  }
  let resolv = '';
  try { resolv = readFileSync('/etc/resolv.conf', 'utf8'); } catch { /* none */ }
  const files = [
    { name: 'hostname', destination: '/etc/hostname', content: `${host}\n` },
    { name: 'hosts', destination: '/etc/hosts', content: hostsLines.join('\n') + '\n' },
    { name: 'resolv.conf', destination: '/etc/resolv.conf', content: resolv },
  ];
  await Promise.all(files.map((f) => fs.writeFile(join(dir, f.name), f.content, { mode: 0o644 })));
  return files.map((f) => ({ source: join(dir, f.name), destination: f.destination }));
}
