// Named volumes of the `local` driver: <data-root>/volumes/<name>/_data holds the data, volume.json the record.
// With driver options (type/device/o, as docker's local driver takes them) the data directory is a mount made
// while some container uses the volume (tmpfs, bind, nfs…), counted per user and undone by the last one.
import { promises as fs, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { ApiError, badRequest, conflict, notFound } from '../../util/errors.js';
import { newId } from '../../util/ids.js';
import { umount, MNT_DETACH } from '../../sys/libc.js';
import { runProgram } from '../../sys/spawn.js';


export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** Made for one container (image VOLUME, `-v /path`): `rm -v` and `volume prune` take it. */
  Anonymous?: boolean;
}

/** Another device than its parent's: something is mounted there. */
async function isMountPoint(dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([fs.stat(dir), fs.stat(join(dir, '..'))]);
  return a.dev !== b.dev;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const DRIVER_OPTS = new Set(['type', 'device', 'o', 'size']);

export class VolumeStore {
  private byName = new Map<string, VolumeRecord>();
  /** Containers using each mounted (driver-option) volume. */
  private users = new Map<string, Set<string>>();

  /** `changed` hears of each volume made or removed (events, kept sizes). */
  constructor(private readonly root: string, private readonly changed: (name: string, action: 'create' | 'destroy') => void = () => undefined) {
    mkdirSync(root, { recursive: true, mode: 0o701 });
  }

  async load(): Promise<void> {
    for (const name of await fs.readdir(this.root)) {
      const rec = await readJson<VolumeRecord>(join(this.root, name, 'volume.json')).catch(() => undefined);
      if (rec) this.byName.set(rec.Name, rec);
    }
  }

  dataDir(name: string): string { return join(this.root, name, '_data'); }

  all(): VolumeRecord[] { return [...this.byName.values()]; }
  find(name: string): VolumeRecord | undefined { return this.byName.get(name); }

  get(name: string): VolumeRecord {
    const v = this.byName.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /** docker volume create: an existing volume of that name is returned as it is (as docker does). */
  async create(o: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean }): Promise<VolumeRecord> {
    const name = o.name || newId();
    if (!NAME.test(name)) throw badRequest(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    if (o.driver && o.driver !== 'local') throw new ApiError(404, `create ${name}: error looking up volume plugin ${o.driver}: plugin "${o.driver}" not found`);
    const existing = this.byName.get(name);
    if (existing) return existing;
    const options = { ...(o.options ?? {}) };
    for (const k of Object.keys(options)) if (!DRIVER_OPTS.has(k)) throw badRequest(`create ${name}: invalid option key: "${k}"`);
    if ((options.device || options.o) && !options.type) throw badRequest(`create ${name}: missing required option: "type"`);
    const rec: VolumeRecord = { Name: name, Driver: 'local', CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: { ...(o.labels ?? {}) }, Options: options, ...(o.anonymous ? { Anonymous: true } : {}) };
    await fs.mkdir(this.dataDir(name), { recursive: true, mode: 0o755 });
    await writeJsonAtomic(join(this.root, name, 'volume.json'), rec);
    this.byName.set(name, rec);
    this.changed(name, 'create');
    return rec;
  }

  async remove(name: string): Promise<void> {
    const v = this.get(name);
    if (this.users.get(name)?.size) throw conflict(`remove ${name}: volume is in use - [${[...this.users.get(name)!].join(', ')}]`);
    if (Object.keys(v.Options).length) try { umount(this.dataDir(name), MNT_DETACH); } catch { /* not mounted */ }
    this.byName.delete(name);
    await fs.rm(join(this.root, name), { recursive: true, force: true });
    this.changed(name, 'destroy');
  }

  /** Before a container starts: a volume with driver options gets its mount (once, for its first user). */
  async acquire(name: string, containerId: string): Promise<string> {
    const v = this.get(name);
    const dir = this.dataDir(name);
    const set = this.users.get(name) ?? new Set<string>();
    this.users.set(name, set);
    if (Object.keys(v.Options).length && set.size === 0 && !(await isMountPoint(dir))) {
      const { type, device, o } = v.Options;
      const size = v.Options.size ? [`size=${v.Options.size}`] : [];
      const opts = [...(o ? [o] : []), ...size].join(',');
      try {
        await runProgram('mount', ['-t', type, ...(opts ? ['-o', opts] : []), device || type, dir]);
      } catch (e) {
        throw new ApiError(500, `error while mounting volume '${dir}': ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
      }
    }
    set.add(containerId);
    return dir;
  }

  /** After a daemon restart: a running container keeps using the volume (and its mount). */
  adopt(name: string, containerId: string): void {
    if (!this.byName.has(name)) return;
    const set = this.users.get(name) ?? new Set<string>();
    set.add(containerId);
    this.users.set(name, set);
  }

  /** After it stops: the last user of a mounted volume unmounts it. */
  release(name: string, containerId: string): void {
    const set = this.users.get(name);
    if (!set?.delete(containerId) || set.size) return;
    const v = this.byName.get(name);
    if (v && Object.keys(v.Options).length && existsSync(this.dataDir(name))) try { umount(this.dataDir(name), MNT_DETACH); } catch { /* already gone */ }
  }
}
