// diff, commit, export: a container's changes, a new image from them, its files as a tar.
import type { Command } from 'commander';
import { clientFor } from './connect.js';
import { ExitError } from './errors.js';
import { referenceProblem, splitReference, tarTo, validReference } from './image.js';
import { out } from './output.js';

const KIND = ['C', 'A', 'D'];

export async function diff(cmd: Command, id: string): Promise<void> {
  const changes = await clientFor(cmd).containerChanges(id);
  out(changes.map((c) => `${KIND[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
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
  out(`${imageId}\n`);
}

export async function exportContainer(cmd: Command, id: string): Promise<void> {
  const o = cmd.opts() as { output?: string };
  await tarTo(o.output, 'export container', () => clientFor(cmd).containerExport(id));
}
