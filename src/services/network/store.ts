// Network records, one atomic JSON file each under <data-root>/network/networks; lookups as docker does them:
// exact name, then full ID, then a unique ID prefix.
import { promises as fs, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { ApiError, notFound } from '../../util/errors.js';
import type { NetworkRecord } from './types.js';

export class NetworkStore {
  private byId = new Map<string, NetworkRecord>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async load(): Promise<void> {
    for (const f of await fs.readdir(this.dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
      const rec = await readJson<NetworkRecord>(join(this.dir, f)).catch(() => undefined);
      if (rec) this.byId.set(rec.Id, rec);
    }
  }

  all(): NetworkRecord[] { return [...this.byId.values()]; }

  find(ref: string): NetworkRecord | undefined {
    const all = this.all();
    const exact = all.find((n) => n.Name === ref) ?? this.byId.get(ref);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((n) => n.Id.startsWith(ref)) : [];
    if (byPrefix.length > 1) throw new ApiError(400, `network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    return byPrefix[0];
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  async save(rec: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir, `${rec.Id}.json`), rec);
    this.byId.set(rec.Id, rec);
  }

  async remove(rec: NetworkRecord): Promise<void> {
    await fs.rm(join(this.dir, `${rec.Id}.json`), { force: true });
    this.byId.delete(rec.Id);
  }
}
