// tug registry: serve a registry from a storage root, and collect its garbage. Neither needs tugd.
import type { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectGarbage } from '../registry/gc.js';
import { LockedError, lockRoot } from '../registry/lock.js';
import { openRegistry, parseAddr, startServer } from '../registry/server.js';
import { RegistryStorage } from '../registry/storage.js';
import { ExitError } from './errors.js';
import { err, out } from './output.js';


function lock(root: string, what: string): () => void {
  try {
    return lockRoot(root, what);
  } catch (e) {
    if (e instanceof LockedError) throw new ExitError(1, `Error: ${e.message}`);
    throw e;
  }
}

export async function serve(cmd: Command): Promise<void> {
  const o = cmd.opts() as { addr: string; root: string; htpasswd?: string; realm?: string };
  try { parseAddr(o.addr); } catch (e) { throw new ExitError(125, `invalid argument "${o.addr}" for "--addr" flag: ${(e as Error).message}`); }
  const root = resolve(o.root);
  mkdirSync(root, { recursive: true });
  if (o.htpasswd && !existsSync(o.htpasswd)) throw new ExitError(1, `Error: htpasswd file ${o.htpasswd}: no such file`);
  const release = lock(root, 'serve');
  try {
    let listening;
    try {
      const handler = await openRegistry({ root, htpasswd: o.htpasswd, realm: o.realm, log: (line) => err(`${line}\n`) });
      listening = await startServer(handler, o.addr);
    } catch (e) {
      throw new ExitError(1, `Error: ${(e as Error).message}`);
    }
    err(`tug registry serving ${listening.url} from ${root}${o.htpasswd ? `, users of ${o.htpasswd}` : ''}\n`);
    const signal = await new Promise<string>((done) => {
      process.once('SIGTERM', () => done('SIGTERM'));
      process.once('SIGINT', () => done('SIGINT'));
    });
    err(`${signal}: finishing requests under way\n`);
    await listening.close();
  } finally {
    release();
  }
}

export async function gc(cmd: Command): Promise<void> {
  const o = cmd.opts() as { root: string; dryRun?: boolean };
  const root = resolve(o.root);
  if (!existsSync(root)) throw new ExitError(1, `Error: no registry storage at ${root}`);
  const release = lock(root, 'gc');
  try {
    const r = await collectGarbage(new RegistryStorage(root), { dryRun: o.dryRun, print: (line) => out(`${line}\n`) });
    const bytes = r.removed.reduce((n, b) => n + b.size, 0);
    out(o.dryRun
      ? `${r.removed.length} blobs eligible for deletion (${bytes} bytes), ${r.kept} in use\n`
      : `${r.removed.length} blobs deleted (${bytes} bytes), ${r.kept} in use\n`);
  } finally {
    release();
  }
}
