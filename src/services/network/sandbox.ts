// A container's network namespace (`ip netns`, loopback up) and the record of every link CNI made in it,
// written before each step so that DEL can undo it after any crash: <data-root>/network/endpoints/<id>.json.
import { promises as fs, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../util/atomic.js';
import { log } from '../../util/log.js';
import type { CniResult, ConfList } from './cni.js';
import type { PortMapping } from './ports.js';
import { runProgram } from '../../sys/spawn.js';
import { isFullId } from '../../util/ids.js';


/** One interface CNI made: enough to run DEL without the network's record. */
export interface Link {
  networkId: string;
  /** The ID CNI knows the link by, when not the container's: a pre-made namespace's (see pool.ts). */
  cniId?: string;
  ifname: string;
  /** The bridge device it hangs on. */
  bridge: string;
  conflist: ConfList;
  runtimeConfig: Record<string, unknown>;
  ports: PortMapping[];
  result?: CniResult;
}

export interface SandboxRecord { netns: string; links: Link[] }

export const netnsName = (id: string) => `tug-${id.slice(0, 16)}`;

export class Sandboxes {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(id: string): string { return join(this.dir, `${id}.json`); }

  read(id: string): Promise<SandboxRecord | undefined> {
    return readJson<SandboxRecord>(this.path(id)).catch(() => undefined);
  }

  save(id: string, rec: SandboxRecord): Promise<void> { return writeJsonAtomic(this.path(id), rec, false); }

  /** A fresh namespace with loopback up, recorded first so a crash in between still gets it deleted. */
  async create(id: string): Promise<SandboxRecord> {
    const name = netnsName(id);
    const rec: SandboxRecord = { netns: `/run/netns/${name}`, links: [] };
    await this.save(id, rec);
    await runProgram('ip', ['netns', 'add', name]);
    await runProgram('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return rec;
  }

  /** Delete the namespace (its veth ends go with it) and the record. */
  async remove(id: string, rec: SandboxRecord): Promise<void> {
    if (existsSync(rec.netns)) await runProgram('ip', ['netns', 'delete', basename(rec.netns)]).catch((e: Error) => log.warn('netns removal', { id, error: e.message }));
    await this.forget(id);
  }

  /** Hand a record over to another store under another ID (one rename: a pre-made namespace given to a container). */
  async moveTo(id: string, other: Sandboxes, newId: string): Promise<void> { await fs.rename(this.path(id), other.path(newId)); }

  /** Drop the record only (the namespace now belongs to another record). */
  forget(id: string): Promise<void> { return fs.rm(this.path(id), { force: true }); }

  /** IDs of every recorded sandbox (after a restart: to adopt or undo). */
  async ids(): Promise<string[]> {
    return (await fs.readdir(this.dir)).map((f) => f.replace(/\.json$/, '')).filter(isFullId);
  }
}
