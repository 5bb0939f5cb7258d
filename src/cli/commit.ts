// diff, commit, export: a container's changes, a new image from them, its files as a tar.
import type { Command } from 'commander';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { clientFor } from './connect.js';
import { ExitError } from './errors.js';
import { referenceProblem, splitReference, validReference } from './image.js';

const KIND = ['C', 'A', 'D'];

export async function diff(cmd: Command, id: string): Promise<void> {
  const changes = await clientFor(cmd).containerChanges(id);
  process.stdout.write(changes.map((c) => `${KIND[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
}

export async function commit(cmd: Command, id: string, reference?: string): Promise<void> {
  const o = cmd.opts() as { author?: string; change?: string[]; message?: string; pause?: boolean };
  let repo: string | undefined;
  let tag: string | undefined;
  if (reference) {
    if (!validReference(reference)) throw new ExitError(1, referenceProblem(reference));
    if (reference.includes('@')) throw new ExitError(1, 'refusing to create a tag with a digest reference');
    ({ repo, tag } = splitReference(reference));
  }
  const imageId = await clientFor(cmd).containerCommit(id, { repo, tag: tag ?? (repo ? 'latest' : undefined), comment: o.message, author: o.author, changes: o.change, pause: o.pause !== false });
  process.stdout.write(`${imageId}\n`);
}

export async function exportContainer(cmd: Command, id: string): Promise<void> {
  const o = cmd.opts() as { output?: string };
  if (!o.output && process.stdout.isTTY) throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const body = await clientFor(cmd).containerExport(id);
  if (!o.output) { await pipeline(body, process.stdout); return; }
  // written beside the target and renamed: a failed export leaves no half tar under the asked name
  const tmp = `${o.output}.tmp-${process.pid}`;
  try {
    await pipeline(body, createWriteStream(tmp));
    renameSync(tmp, o.output);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ExitError(1, `failed to export container: ${(e as Error).message}`);
  }
}
