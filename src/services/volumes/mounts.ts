// A container's volumes, bind mounts and tmpfs: planned at create from -v (Binds), --mount (Mounts), --tmpfs,
// --volumes-from and the VOLUMEs of its config, with docker's checks and messages; turned into OCI mounts at each
// start (volumes mounted if they need it, a fresh volume filled with the image's content at its path first).
import { promises as fs, existsSync, mkdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { ContainerRecord, HostConfig, MountPoint } from '../containers/types.js';
import type { OciMount } from '../runtime/spec.js';
import { resolveInRoot } from '../../sys/rootpath.js';
import { ApiError, badRequest, conflict, notFound } from '../../util/errors.js';
import type { VolumeStore } from './store.js';
import { runProgram } from '../../sys/spawn.js';


/** docker's Mounts entry of the create API (--mount). */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

export interface ContainerLookup { find(ref: string): ContainerRecord | undefined; all(): ContainerRecord[] }

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', 'consistent', 'cached', 'delegated', ...PROPAGATIONS]);

function checkTarget(target: string, type: string, spec: string): string {
  const invalid = (why: string) => badRequest(`invalid mount config for type "${type}": ${why}`);
  if (!target) throw invalid('field Target must not be empty');
  if (!target.startsWith('/')) throw badRequest(`invalid volume specification: '${spec}': invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`);
  const clean = posix.normalize(target).replace(/\/+$/, '') || '/';
  if (clean === '/') throw invalid('invalid specification: destination can\'t be \'/\'');
  if (clean === '/proc' || clean.startsWith('/proc/')) throw invalid(`invalid specification: a mount over ${clean} is not allowed`);
  return clean;
}

export class ContainerMounts {
  constructor(private readonly d: { volumes: VolumeStore; containers: ContainerLookup }) {}

  /** At create: every mount point, with named and anonymous volumes made now (as docker does). */
  async plan(hc: HostConfig, configVolumes: Record<string, object> | null | undefined): Promise<MountPoint[]> {
    // volumes made by a plan that then fails are removed again: a refused create leaves nothing behind
    const before = new Set(this.d.volumes.all().map((v) => v.Name));
    try {
      return await this.planMounts(hc, configVolumes);
    } catch (e) {
      for (const v of this.d.volumes.all()) if (!before.has(v.Name)) await this.d.volumes.remove(v.Name).catch(() => undefined);
      throw e;
    }
  }

  private async planMounts(hc: HostConfig, configVolumes: Record<string, object> | null | undefined): Promise<MountPoint[]> {
    const out: MountPoint[] = [];
    const add = (m: MountPoint) => {
      if (out.some((x) => x.Destination === m.Destination)) throw badRequest(`Duplicate mount point: ${m.Destination}`);
      out.push(m);
    };
    for (const spec of hc.Binds ?? []) add(await this.fromBind(spec));
    for (const m of (hc.Mounts as ApiMount[] | null | undefined) ?? []) add(await this.fromApiMount(m));
    for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) checkTarget(dest, 'tmpfs', `${dest}:${opts}`);
    for (const ref of (hc.VolumesFrom as string[] | null | undefined) ?? []) {
      const [name, mode] = ref.split(':');
      if (mode && mode !== 'ro' && mode !== 'rw') throw badRequest(`invalid mode for volumes-from: ${mode}`);
      const from = this.d.containers.find(name);
      if (!from) throw notFound(`No such container: ${name}`);
      for (const m of from.Mounts ?? []) {
        if (m.Type === 'tmpfs' || out.some((x) => x.Destination === m.Destination)) continue;
        out.push({ ...m, RW: mode ? mode === 'rw' : m.RW, Anonymous: false });
      }
    }
    // the config's VOLUMEs (the image's and -v /path): an anonymous volume each, unless something is mounted there
    for (const dest of Object.keys(configVolumes ?? {})) {
      const target = checkTarget(dest, 'volume', dest);
      if (out.some((x) => x.Destination === target) || Object.keys(hc.Tmpfs ?? {}).some((t) => posix.normalize(t) === target)) continue;
      const v = await this.d.volumes.create({ anonymous: true });
      out.push({ Type: 'volume', Name: v.Name, Source: this.d.volumes.dataDir(v.Name), Destination: target, Driver: 'local', Mode: '', RW: true, Propagation: '', Anonymous: true });
    }
    return out;
  }

  /** -v SRC:DEST[:MODE]: an absolute SRC is a host directory (made if missing, as docker does), else a volume name. */
  private async fromBind(spec: string): Promise<MountPoint> {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw badRequest(`invalid volume specification: '${spec}'`);
    const [src, dest, mode = ''] = parts;
    const modes = mode ? mode.split(',') : [];
    for (const m of modes) if (!MODES.has(m)) throw badRequest(`invalid mode: ${m}`);
    const rw = !modes.includes('ro');
    const propagation = modes.find((m) => PROPAGATIONS.has(m)) ?? '';
    if (src.startsWith('/')) {
      const target = checkTarget(dest, 'bind', spec);
      const source = posix.normalize(src);
      if (!existsSync(source)) mkdirSync(source, { recursive: true, mode: 0o755 });
      return { Type: 'bind', Source: source, Destination: target, Mode: mode, RW: rw, Propagation: propagation || 'rprivate' };
    }
    const target = checkTarget(dest, 'volume', spec);
    if (propagation) throw badRequest(`invalid volume specification: '${spec}': invalid mount config for type "volume": field BindOptions must not be specified`);
    const v = await this.d.volumes.create({ name: src });
    return { Type: 'volume', Name: v.Name, Source: this.d.volumes.dataDir(v.Name), Destination: target, Driver: 'local', Mode: mode, RW: rw, Propagation: '' };
  }

  /** --mount: docker's stricter rules (a bind source must exist). */
  private async fromApiMount(m: ApiMount): Promise<MountPoint> {
    const type = m.Type ?? '';
    const target = checkTarget(m.Target ?? '', type || 'volume', m.Target ?? '');
    const invalid = (why: string) => badRequest(`invalid mount config for type "${type}": ${why}`);
    switch (type) {
      case 'bind': {
        if (!m.Source) throw invalid('field Source must not be empty');
        if (m.VolumeOptions) throw invalid('field VolumeOptions must not be specified');
        const source = posix.normalize(m.Source);
        if (!source.startsWith('/')) throw invalid(`invalid mount path: '${m.Source}' mount path must be absolute`);
        if (!existsSync(source)) {
          if (!m.BindOptions?.CreateMountpoint) throw invalid(`bind source path does not exist: ${source}`);
          mkdirSync(source, { recursive: true, mode: 0o755 });
        }
        const propagation = m.BindOptions?.Propagation || 'rprivate';
        if (!PROPAGATIONS.has(propagation)) throw invalid(`invalid propagation mode: ${propagation}`);
        return { Type: 'bind', Source: source, Destination: target, Mode: '', RW: !m.ReadOnly, Propagation: propagation };
      }
      case 'volume': {
        if (m.BindOptions) throw invalid('field BindOptions must not be specified');
        const driver = m.VolumeOptions?.DriverConfig;
        const v = await this.d.volumes.create({ name: m.Source || undefined, driver: driver?.Name || undefined, options: driver?.Options ?? undefined, labels: m.VolumeOptions?.Labels ?? undefined, anonymous: !m.Source });
        return { Type: 'volume', Name: v.Name, Source: this.d.volumes.dataDir(v.Name), Destination: target, Driver: 'local', Mode: m.VolumeOptions?.NoCopy ? 'nocopy' : 'z', RW: !m.ReadOnly, Propagation: '', ...(m.Source ? {} : { Anonymous: true }) };
      }
      case 'tmpfs': {
        if (m.Source) throw invalid('field Source must not be specified');
        const opts = [...(m.TmpfsOptions?.SizeBytes ? [`size=${m.TmpfsOptions.SizeBytes}`] : []), ...(m.TmpfsOptions?.Mode ? [`mode=${m.TmpfsOptions.Mode.toString(8)}`] : [])];
        return { Type: 'tmpfs', Source: '', Destination: target, Mode: '', RW: !m.ReadOnly, Propagation: '', TmpfsOptions: opts };
      }
      default:
        throw invalid('mount type unknown');
    }
  }

  /** At start: OCI mounts, volumes mounted where they need it and filled from the image the first time. */
  async prepare(rec: ContainerRecord, rootfs: string): Promise<OciMount[]> {
    const out: OciMount[] = [];
    for (const m of rec.Mounts ?? []) {
      if (m.Type === 'tmpfs') {
        out.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', m.RW ? 'rw' : 'ro', ...(m.TmpfsOptions ?? [])] });
        continue;
      }
      let source = m.Source;
      if (m.Type === 'volume' && m.Name) {
        source = await this.d.volumes.acquire(m.Name, rec.Id);
        if (!m.Mode.split(',').includes('nocopy')) await copyUp(rootfs, m.Destination, source);
      } else if (!existsSync(source)) {
        throw new ApiError(400, `invalid mount config for type "bind": bind source path does not exist: ${source}`);
      }
      out.push({ destination: m.Destination, type: 'bind', source, options: ['rbind', m.RW ? 'rw' : 'ro', m.Propagation || 'rprivate'] });
    }
    return out;
  }

  /** After a daemon restart, for each container still running. */
  adopt(rec: ContainerRecord): void {
    for (const m of rec.Mounts ?? []) if (m.Type === 'volume' && m.Name) this.d.volumes.adopt(m.Name, rec.Id);
  }

  /** After it stops. */
  release(rec: ContainerRecord): void {
    for (const m of rec.Mounts ?? []) if (m.Type === 'volume' && m.Name) this.d.volumes.release(m.Name, rec.Id);
  }

  /** Containers whose mounts name the volume. */
  users(name: string): ContainerRecord[] {
    return this.d.containers.all().filter((c) => c.Mounts?.some((m) => m.Type === 'volume' && m.Name === name));
  }

  /** docker volume rm: refused while any container, running or not, uses it. */
  async removeVolume(name: string): Promise<void> {
    this.d.volumes.get(name);
    const users = this.users(name);
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.map((c) => c.Id).join(', ')}]`);
    await this.d.volumes.remove(name);
  }

  /** A removed container's anonymous volumes go with it when asked (`rm -v`), unless another container uses them. */
  async removeContainer(rec: ContainerRecord, removeAnonymous: boolean): Promise<void> {
    this.release(rec);
    if (!removeAnonymous) return;
    for (const m of rec.Mounts ?? []) {
      if (!m.Anonymous || !m.Name) continue;
      if (this.users(m.Name).some((c) => c.Id !== rec.Id)) continue;
      await this.d.volumes.remove(m.Name).catch(() => undefined);
    }
  }
}

/** docker's copy-up: an empty volume first mounted over a non-empty image directory gets its content (owners, modes,
 *  links kept; the source path resolved inside the container root, links inside it copied as links). */
async function copyUp(rootfs: string, destination: string, volumeDir: string): Promise<void> {
  if ((await fs.readdir(volumeDir)).length) return;
  const src = resolveInRoot(rootfs, destination);
  let st;
  try { st = statSync(src); } catch { return; }
  if (!st.isDirectory() || (await fs.readdir(src)).length === 0) return;
  await runProgram('cp', ['-a', '--no-dereference', '--', `${src}/.`, `${volumeDir}/`]);
  // the directory itself keeps the image's owner and mode too
  await fs.chown(volumeDir, st.uid, st.gid);
  await fs.chmod(volumeDir, st.mode & 0o7777);
}
