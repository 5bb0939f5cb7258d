// Image commands: images, tag, rmi, import.
import type { Command } from 'commander';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { EngineError } from '../client/errors.js';
import { clientFor } from './connect.js';
import { parseFilters } from './container.js';
import { ExitError } from './errors.js';
import { defaultImagesTable, imageHeaders, imageRows, parseFormat, renderRows } from './format.js';
import { displayProgress, StreamError } from './progress.js';
import type { EngineClient } from '../client/api.js';
import { registryHostOf } from '../services/images/reference.js';
import { eraseCredentials, registryAuthFor, registryKey, storeCredentials } from './credentials.js';
import { err, out } from './output.js';


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
    const full = repo.includes('/') ? repo : `library/${repo}`;
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

// ---- pull ----

/** Pull with docker's output: per-layer progress, then the digest, the status and the full reference. */
export async function pullImage(client: EngineClient, ref: string, o: { platform?: string; quiet?: boolean; allTags?: boolean; output?: NodeJS.WriteStream; implicit?: boolean }): Promise<void> {
  const at = ref.indexOf('@');
  const { repo, tag } = at >= 0 ? { repo: ref.slice(0, at), tag: ref.slice(at + 1) } : splitReference(ref);
  if (o.allTags && tag) throw new ExitError(1, 'tag can\'t be used with --all-tags/-a');
  const output = o.output ?? process.stdout;
  let wanted = tag;
  if (!wanted && !o.allTags) {
    wanted = 'latest';
    if (!o.quiet && !o.implicit) output.write('Using default tag: latest\n');
  }
  const messages = await client.imagePull(repo, wanted, o.platform, registryAuthFor(repo));
  if (o.quiet) {
    for await (const m of messages) if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message ?? m.error ?? '');
  } else {
    await displayProgress(messages, output);
  }
  if (!o.allTags && !o.implicit) output.write(`${fullReference(repo)}${at >= 0 ? '@' : ':'}${wanted}\n`);
}

/** docker prints the canonical name: docker.io/library/busybox, localhost:5000/app. */
function fullReference(repo: string): string {
  if (registryHostOf(repo)) return repo;
  return `docker.io/${repo.includes('/') ? repo : `library/${repo}`}`;
}

export async function pull(cmd: Command, ref: string): Promise<void> {
  const o = cmd.opts() as { allTags?: boolean; quiet?: boolean; platform?: string };
  if (!validReference(ref)) throw new ExitError(1, `invalid reference format: ${referenceProblem(ref)}`);
  await pullImage(clientFor(cmd), ref, o);
}

// ---- search ----

export async function search(cmd: Command, term: string): Promise<void> {
  const o = cmd.opts() as { filter?: string[]; limit?: string; trunc?: boolean; format?: string };
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !Number.isInteger(limit)) throw new ExitError(125, `invalid argument "${o.limit}" for "--limit" flag: strconv.ParseInt: parsing "${o.limit}": invalid syntax`);
  const results = await clientFor(cmd).imageSearch(term, limit, parseFilters(o.filter), registryAuthFor(term.includes('/') ? term : ''));
  const trunc = o.trunc !== false;
  const rows = results.map((r) => {
    const desc = r.description.replace(/\s+/g, ' ').trim();
    return { Name: r.name, Description: trunc && desc.length > 45 ? `${desc.slice(0, 44)}…` : desc, StarCount: String(r.star_count), IsOfficial: r.is_official ? '[OK]' : '', IsAutomated: r.is_automated ? '[OK]' : '' };
  });
  out(renderRows(parseFormat(o.format, 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}'), rows, { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' }));
}

// ---- save / load ----

/** A tar from the daemon to -o FILE (written beside it and renamed: a failure leaves no half tar under that name)
 *  or to stdout, never to a terminal. */
export async function tarTo(output: string | undefined, what: string, body: () => Promise<NodeJS.ReadableStream>): Promise<void> {
  if (!output && process.stdout.isTTY) throw new ExitError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const stream = await body();
  if (!output) { await pipeline(stream, process.stdout); return; }
  const tmp = `${output}.tmp-${process.pid}`;
  try {
    await pipeline(stream, createWriteStream(tmp));
    renameSync(tmp, output);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ExitError(1, `failed to ${what}: ${(e as Error).message}`);
  }
}

export async function save(cmd: Command, names: string[]): Promise<void> {
  const o = cmd.opts() as { output?: string };
  await tarTo(o.output, 'save', () => clientFor(cmd).imageSave(names));
}

export async function load(cmd: Command): Promise<void> {
  const o = cmd.opts() as { input?: string; quiet?: boolean };
  if (!o.input && process.stdin.isTTY) throw new ExitError(1, 'requested load from stdin, but stdin is empty');
  let input: Readable = process.stdin;
  if (o.input) {
    const f = createReadStream(o.input);
    await new Promise<void>((resolve, reject) => {
      f.once('open', () => resolve());
      f.once('error', (e: NodeJS.ErrnoException) => reject(new ExitError(1, `open ${o.input}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`)));
    });
    input = f;
  }
  await displayProgress(await clientFor(cmd).imageLoad(input));
}

// ---- push ----

export async function push(cmd: Command, ref: string): Promise<void> {
  const o = cmd.opts() as { allTags?: boolean; quiet?: boolean };
  if (!validReference(ref)) throw new ExitError(1, `invalid reference format: ${referenceProblem(ref)}`);
  const { repo, tag } = splitReference(ref);
  if (o.allTags && tag) throw new ExitError(1, 'tag can\'t be used with --all-tags/-a');
  let wanted = tag ?? '';
  if (!wanted && !o.allTags) {
    wanted = 'latest';
    if (!o.quiet) out('Using default tag: latest\n');
  }
  const messages = await clientFor(cmd).imagePush(repo, wanted, registryAuthFor(repo));
  if (o.quiet) {
    for await (const m of messages) if (m.error || m.errorDetail?.message) throw new StreamError(m.errorDetail?.message ?? m.error ?? '');
    out(`${repo}${wanted ? `:${wanted}` : ''}\n`);
    return;
  }
  await displayProgress(messages);
}

// ---- login / logout ----

async function readSecret(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function login(cmd: Command, server?: string): Promise<void> {
  const o = cmd.opts() as { username?: string; password?: string; passwordStdin?: boolean };
  if (o.password && o.passwordStdin) throw new ExitError(1, '--password and --password-stdin are mutually exclusive');
  if (o.passwordStdin && !o.username) throw new ExitError(1, 'Must provide --username with --password-stdin');
  if (o.password) err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const username = o.username;
  const password = o.passwordStdin ? await readSecret() : o.password;
  if (!username || password === undefined) throw new ExitError(1, 'Error: Cannot perform an interactive login from a non TTY device');
  const key = registryKey(server);
  try {
    await clientFor(cmd).t.json('POST', '/auth', { body: { username, password, serveraddress: key } });
  } catch (e) {
    if (e instanceof EngineError) throw new ExitError(1, `Error response from daemon: ${e.message}`);
    throw e;
  }
  storeCredentials(key, username, password);
  out(`Login Succeeded\n`);
}

export async function logout(cmd: Command, server?: string): Promise<void> {
  const key = registryKey(server);
  if (eraseCredentials(key)) out(`Removing login credentials for ${key}\n`);
  else out(`Not logged in to ${key}\n`);
  void cmd;
}
