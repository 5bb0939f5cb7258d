// Image commands: images, tag, rmi, import.
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { EngineError } from '../client/errors.js';
import { clientFor } from './connect.js';
import { parseFilters } from './container.js';
import { ExitError } from './errors.js';
import { defaultImagesTable, imageHeaders, imageRows, parseFormat, renderRows } from './format.js';
import { displayProgress } from './progress.js';

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

/** Split "repo[:tag]" (a registry port is not a tag). */
export function splitReference(ref: string): { repo: string; tag?: string } {
  if (ref.includes('@')) return { repo: ref };
  const i = ref.lastIndexOf(':');
  if (i > ref.lastIndexOf('/')) return { repo: ref.slice(0, i), tag: ref.slice(i + 1) };
  return { repo: ref };
}

const refPattern = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** The reason docker gives for a bad reference. */
export function referenceProblem(ref: string): string {
  const { repo } = splitReference(ref);
  if (repo !== repo.toLowerCase() && validReference(ref.toLowerCase())) {
    const first = repo.split('/')[0];
    const hasDomain = repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
    const full = hasDomain ? repo : repo.includes('/') ? repo : `library/${repo}`;
    return `invalid reference format: repository name (${full}) must be lowercase`;
  }
  return 'invalid reference format';
}

export function validReference(ref: string): boolean {
  return refPattern.test(ref);
}

export async function images(cmd: Command, repository?: string): Promise<void> {
  const o = cmd.opts() as { all?: boolean; digests?: boolean; filter?: string[]; format?: string; trunc?: boolean; quiet?: boolean };
  const filters = parseFilters(o.filter);
  if (repository) (filters.reference ??= []).push(repository);
  const list = await clientFor(cmd).imageList({ all: o.all, filters, digests: o.digests });
  const trunc = o.trunc !== false;
  if (o.quiet) {
    // one line per row, like docker (an image with two tags is listed twice)
    out(imageRows(list, { trunc }).map((r) => `${String(r.ID)}\n`).join(''));
    return;
  }
  let spec = parseFormat(o.format, defaultImagesTable);
  if (o.digests && !o.format) spec = parseFormat(undefined, 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}');
  out(renderRows(spec, imageRows(list, { trunc, digests: o.digests }), imageHeaders));
}

export async function tag(cmd: Command, source: string, target: string): Promise<void> {
  if (!validReference(target)) throw new ExitError(1, `Error parsing reference: "${target}" is not a valid repository/tag: ${referenceProblem(target)}`);
  const { repo, tag: t } = splitReference(target);
  await clientFor(cmd).imageTag(source, repo, t ?? 'latest');
}

export async function rmi(cmd: Command, names: string[]): Promise<void> {
  const o = cmd.opts() as { force?: boolean; prune?: boolean };
  const client = clientFor(cmd);
  let failed = false;
  for (const n of names) {
    try {
      const items = await client.imageRemove(n, { force: o.force, noprune: o.prune === false });
      for (const it of items ?? []) {
        if (it.Untagged) out(`Untagged: ${it.Untagged}\n`);
        if (it.Deleted) out(`Deleted: ${it.Deleted}\n`);
      }
    } catch (e) {
      failed = true;
      err(e instanceof EngineError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  if (failed) throw new ExitError(1);
}

export async function importImage(cmd: Command, source: string, reference?: string): Promise<void> {
  const o = cmd.opts() as { change?: string[]; message?: string; platform?: string };
  let repo: string | undefined;
  let t: string | undefined;
  if (reference) {
    if (!validReference(reference)) throw new ExitError(1, referenceProblem(reference));
    ({ repo, tag: t } = splitReference(reference));
  }
  let body: Readable | undefined;
  let fromSrc = '-';
  if (source === '-') body = process.stdin;
  else if (/^(https?):\/\//.test(source)) fromSrc = source;
  else {
    body = createReadStream(source);
    await new Promise<void>((resolve, reject) => {
      body!.once('open', () => resolve());
      body!.once('error', (e: NodeJS.ErrnoException) => reject(new ExitError(1, `open ${source}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`)));
    });
  }
  const messages = await clientFor(cmd).imageImport(body, { fromSrc, repo, tag: t, message: o.message, changes: o.change, platform: o.platform });
  await displayProgress(messages);
}
