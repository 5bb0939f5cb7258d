// docker cp's daemon side: stat a path in a container, archive it, extract an archive into it. Running or not,
// everything goes through the in-root resolver (src/sys/inroot.ts) and descriptors, and decompression happens
// here, never with anything from the container.
import { closeSync, fstatSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InRootError, type InRoot, type Resolved } from '../../sys/inroot.js';
import { ApiError, badRequest, conflict, notFound } from '../../util/errors.js';
import { pathStat, type PathStat } from '../../util/pathstat.js';
import { packTree } from '../../util/tar/pack-tree.js';
import { ExtractError, extractTree } from '../../util/tar/extract-tree.js';
import { decompressed } from '../images/decompress.js';
import { peek } from '../../util/peek.js';
import type { ContainerRecord } from '../containers/types.js';
import { withContainerFs, type RootfsLease } from './container-fs.js';
import { containerOwner } from './owner.js';

export interface ArchiveDeps {
  store: { dir(id: string): string };
  lease: RootfsLease;
  events: { publish(type: 'container', action: string, id: string, attrs: Record<string, string>): void };
  attrs: (rec: ContainerRecord) => Record<string, string>;
}

export interface PutOptions { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }

/** docker's absolute path of an API path: joined to "/", a trailing "/" or "/." kept (they ask for a directory). */
export function containerPath(path: string): string {
  let p = posix.join('/', path);
  const dot = path === '.' || path.endsWith('/.');
  if (dot && !(p === '/.' || p.endsWith('/.'))) p = p.endsWith('/') ? `${p}.` : `${p}/.`;
  else if (!dot && path.endsWith('/') && !p.endsWith('/')) p += '/';
  return p;
}

/** Go's filepath.Base: the last element, trailing slashes ignored; "/" for the root. */
export function baseName(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

/** An archive consumer that went away is no error of ours. */
export const isConsumerGone = (e: unknown) => (e as Error).message === 'archive consumer went away';

export class ContainerArchive {
  constructor(private readonly d: ArchiveDeps) {}

  private fs<T>(rec: ContainerRecord, fn: (root: InRoot) => Promise<T>): Promise<T> {
    return withContainerFs(rec, this.d.store.dir(rec.Id), this.d.lease, fn);
  }

  /** docker's errors for a path: 404 with its words when missing, the reason otherwise. */
  private pathError(e: unknown, path: string, ref: string): unknown {
    if (!(e instanceof InRootError)) return e;
    if (e.code === 'ENOENT') return notFound(`Could not find the file ${path} in container ${ref}`);
    return badRequest(`lstat ${e.path}: ${e.message.slice(e.path.length + 2)}`);
  }

  /** The path itself (a trailing "/" follows a final symlink), as docker's lstat sees it. */
  private lstat(root: InRoot, abs: string, path: string, ref: string): { r: Resolved; stat: PathStat } {
    let r: Resolved;
    try { r = root.resolve(abs, false); } catch (e) { throw this.pathError(e, path, ref); }
    try {
      const st = fstatSync(r.fd, { bigint: true });
      const linkTarget = st.isSymbolicLink() ? root.resolvePath(abs) : '';
      return { r, stat: pathStat(baseName(abs), st, linkTarget, st.mtimeNs) };
    } catch (e) {
      closeSync(r.fd);
      throw this.pathError(e, path, ref);
    }
  }

  /** HEAD /containers/{id}/archive. `ref` is the container as the client named it (for messages). */
  async stat(rec: ContainerRecord, ref: string, path: string): Promise<PathStat> {
    return this.fs(rec, async (root) => {
      const { r, stat } = this.lstat(root, containerPath(path), path, ref);
      closeSync(r.fd);
      return stat;
    });
  }

  /** GET /containers/{id}/archive: `start` sends the headers (with the stat) and gives the stream for the tar. */
  async get(rec: ContainerRecord, ref: string, path: string, start: (stat: PathStat) => Writable): Promise<number> {
    return this.fs(rec, async (root) => {
      const abs = containerPath(path);
      const { r, stat } = this.lstat(root, abs, path, ref);
      try {
        const name = baseName(abs);
        const linkname = r.stat.isSymbolicLink() ? root.readlink(abs) : undefined;
        const out = start(stat);
        this.d.events.publish('container', 'archive-path', rec.Id, this.d.attrs(rec));
        return await packTree({ fd: r.fd, name, path: r.path, linkname }, out, {
          mountFd: (p) => { const m = root.mountAt(p); return m ? root.openMount(m) : undefined; },
        });
      } finally {
        closeSync(r.fd);
      }
    });
  }

  /** PUT /containers/{id}/archive: a tar (plain or compressed) unpacked into an existing directory. */
  async put(rec: ContainerRecord, ref: string, path: string, body: Readable, o: PutOptions): Promise<void> {
    // decompressed here, before touching the container: no tool of the container's ever runs
    const { head, stream } = await peek(body, 6);
    const input = head.length === 0 ? undefined : (await decompressed(stream)).stream;
    await this.fs(rec, async (root) => {
      const abs = containerPath(path);
      let dest: Resolved;
      // all symlinks followed, the last one too: extracting "into" a link to a directory is extracting into it
      try { dest = root.resolve(abs, true); } catch (e) { throw this.pathError(e, path, ref); }
      const destPath = dest.path;
      const isDir = dest.stat.isDirectory();
      closeSync(dest.fd);
      if (!isDir) throw badRequest('extraction point is not a directory');
      const checkWritable = (d: { mount?: { rw: boolean } }) => {
        if (d.mount) { if (!d.mount.rw) throw badRequest('mounted volume is marked read-only'); } else if (rec.HostConfig.ReadonlyRootfs) throw badRequest('container rootfs is marked read-only');
      };
      checkWritable(dest);
      const owner = o.copyUIDGID && rec.Config.User ? containerOwner(root, rec.Config.User) : 'header';
      if (input) {
        try {
          await extractTree(input, { root, dest: destPath, noOverwriteDirNonDir: o.noOverwriteDirNonDir, owner, checkWritable });
        } catch (e) {
          if (e instanceof ExtractError) throw e.kind === 'conflict' ? conflict(e.message) : badRequest(e.message);
          throw e instanceof ApiError ? e : new ApiError(500, (e as Error).message);
        }
      }
      this.d.events.publish('container', 'extract-to-dir', rec.Id, this.d.attrs(rec));
    });
  }
}
