// Container records: in memory for speed, each persisted atomically as JSON in its own directory.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { markTopDirectory } from '../../sys/libc.js';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { conflict, noSuchContainer, badRequest, errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';
import { validName } from '../../util/ids.js';
import type { ContainerRecord } from './types.js';

const RECORD = 'config.v2.json';
/** Removed containers' directories, moved out of the way at once and deleted behind the answer. */
const REMOVED = '.removed';

/** A container directory without a record: the leftovers of a removal. */
export interface Orphan { id: string; dir: string }

export class ContainerStore {
  private byId = new Map<string, ContainerRecord>();
  private byName = new Map<string, string>();
  private writes = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  dir(id: string): string { return join(this.root, id); }

  /**
   * Reads every record. Orphans are directories without one: a removal the daemon stopped in the middle of, and what
   * a previous run had moved aside but not deleted yet (a --rm container's rootfs may still be mounted there); the
   * caller releases and deletes them.
   */
  async load(): Promise<{ orphans: Orphan[] }> {
    await fs.mkdir(join(this.root, REMOVED), { recursive: true });
    const orphans: Orphan[] = (await fs.readdir(join(this.root, REMOVED))).map((id) => ({ id, dir: join(this.root, REMOVED, id) }));
    // each container's writable layer in a block group of its own (see markTopDirectory): a build's RUN steps
    // write thousands of files right after the previous build's were removed
    markTopDirectory(this.root);
    for (const id of await fs.readdir(this.root)) {
      if (id.startsWith('.')) continue;
      const rec = await readJson<ContainerRecord>(join(this.root, id, RECORD)).catch(() => undefined);
      if (!rec) { orphans.push({ id, dir: this.dir(id) }); continue; }
      this.byId.set(rec.Id, rec);
      this.byName.set(rec.Name, rec.Id);
    }
    return { orphans };
  }

  all(): ContainerRecord[] { return [...this.byId.values()]; }

  /** Docker's lookup order: full ID, exact name, then unique ID prefix. */
  find(ref: string): ContainerRecord | undefined {
    const r = ref.replace(/^\//, '');
    const exact = this.byId.get(r);
    if (exact) return exact;
    const named = this.byName.get(r);
    if (named) return this.byId.get(named);
    if (r.length === 0 || !/^[0-9a-f]+$/.test(r)) return undefined;
    let hit: ContainerRecord | undefined;
    for (const [id, rec] of this.byId) {
      if (!id.startsWith(r)) continue;
      if (hit) throw badRequest(`multiple IDs found with provided prefix: ${r}`);
      hit = rec;
    }
    return hit;
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw noSuchContainer(ref);
    return rec;
  }

  /** Claims a name for an ID; throws docker's 409 when taken and 400 when malformed. */
  reserveName(name: string, id: string): void {
    const n = name.replace(/^\//, '');
    if (!validName(n)) throw badRequest(`Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const owner = this.byName.get(n);
    if (owner && owner !== id) {
      throw conflict(`Conflict. The container name "/${n}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(n, id);
  }

  releaseName(name: string): void { this.byName.delete(name.replace(/^\//, '')); }

  async add(rec: ContainerRecord): Promise<void> {
    await fs.mkdir(this.dir(rec.Id), { recursive: true, mode: 0o710 });
    this.byId.set(rec.Id, rec);
    this.byName.set(rec.Name, rec.Id);
    await this.save(rec, true);
  }

  /**
   * Run-state changes are not fsynced: after a crash the supervisor re-derives them from the
   * runtime and conmon's exit files. Configuration changes (create, rename) are.
   */
  save(rec: ContainerRecord, durable = false): Promise<void> {
    // one write at a time per record, in the order asked: the file ends with the last state (callers need not wait)
    const next = (this.writes.get(rec.Id) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => writeJsonAtomic(join(this.dir(rec.Id), RECORD), rec, durable));
    this.writes.set(rec.Id, next);
    void next.catch(() => undefined).finally(() => { if (this.writes.get(rec.Id) === next) this.writes.delete(rec.Id); });
    return next;
  }

  /**
   * Forgets the record and moves its directory aside (one rename); the tree (upper dir, logs) is deleted in the
   * background, after `release` (given the directory's new place) has unmounted what it must. A release that fails
   * leaves the tree to the next start's orphan pass.
   */
  async remove(rec: ContainerRecord, release?: (dir: string) => Promise<void>): Promise<void> {
    this.byId.delete(rec.Id);
    if (this.byName.get(rec.Name) === rec.Id) this.byName.delete(rec.Name);
    await this.writes.get(rec.Id)?.catch(() => undefined);
    const trash = join(this.root, REMOVED, rec.Id);
    const renamed = await fs.rename(this.dir(rec.Id), trash).then(() => true, () => false);
    const deletion = async (dir: string) => {
      await release?.(dir);
      await fs.rm(dir, { recursive: true, force: true });
    };
    if (!renamed) { await deletion(this.dir(rec.Id)); return; }
    // once the caller's answer has gone out
    setImmediate(() => { deletion(trash).catch((e: unknown) => log.warn('container directory', { id: rec.Id, error: errorMessage(e) })); });
  }
}
