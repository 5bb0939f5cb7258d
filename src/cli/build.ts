// `tug build` as docker's CLI does it with the legacy builder: the context (a directory, or stdin) goes to
// POST /build as a tar, and the build's messages come back: printed as they come (plain), summed up in place on a
// terminal (compact view), or held back until the image ID is known (-q). Also `tug builder prune`.
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import { lstatSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import type { EngineClient } from '../client/api.js';
import type { JsonMessage } from '../client/jsonstream.js';
import type { Query } from '../client/transport.js';
import { BadPatternError } from '../util/dockerignore.js';
import { humanSizePrec } from '../util/units.js';
import { contextMatcher, isArchive, packContext, readIgnorePatterns, singleFileTar } from './build-context.js';
import { peek } from '../util/peek.js';
import { CompactBuildView } from './build-view.js';
import { clientFor } from './connect.js';
import { confirm, parseFilters } from './container.js';
import { configDir } from './credentials.js';
import { ExitError, FlagError } from './errors.js';
import { referenceProblem, validReference } from './image.js';
import { displayProgress, StreamError } from './progress.js';
import { csvRecord, parseExtraHost, ramInBytes } from './runopts.js';
import { err, out } from './output.js';


export interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  label?: string[];
  target?: string;
  /** false with --no-cache */
  cache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  iidfile?: string;
  network?: string;
  addHost?: string[];
  platform?: string;
  rm?: boolean;
  forceRm?: boolean;
  cacheFrom?: string[];
  shmSize?: string;
  memory?: string;
  memorySwap?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  cgroupParent?: string;
  compress?: boolean;
  progress?: string;
}

const flagError = (value: string, flag: string, why: string) => new FlagError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

function bytesFlag(value: string | undefined, flag: string, allowMinusOne = false): number | undefined {
  if (value === undefined) return undefined;
  if (allowMinusOne && value.trim() === '-1') return -1;
  try { return ramInBytes(value); } catch (e) { throw flagError(value, flag, (e as Error).message); }
}

function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(value)) throw flagError(value, flag, `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

/** KEY=VALUE flags into an object: `K` alone takes the environment's value, or null when unset (--build-arg). */
function buildArgs(list: string[], env: NodeJS.ProcessEnv): Record<string, string | null> {
  const args: Record<string, string | null> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    const key = i < 0 ? item : item.slice(0, i);
    if (!key) throw flagError(item, '--build-arg', `invalid environment variable: ${item}`);
    args[key] = i >= 0 ? item.slice(i + 1) : env[key] ?? null;
  }
  return args;
}

function labels(list: string[]): Record<string, string> {
  const l: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    const key = i < 0 ? item : item.slice(0, i);
    if (!key.trim()) throw flagError(item, '--label', `invalid label '${item}': empty name`);
    l[key] = i < 0 ? '' : item.slice(i + 1);
  }
  return l;
}

/** The query of POST /build for the flags: only what the user set (the daemon has docker's defaults). */
export function buildQuery(o: BuildFlags, env: NodeJS.ProcessEnv = process.env): Query {
  for (const t of o.tag ?? []) if (!validReference(t)) throw flagError(t, '-t, --tag', referenceProblem(t));
  const hosts = (o.addHost ?? []).map(parseExtraHost);
  const args = buildArgs(o.buildArg ?? [], env);
  const meta = labels(o.label ?? []);
  const cacheFrom = (o.cacheFrom ?? []).flatMap((v) => csvRecord(v));
  const platform = o.platform ?? env.DOCKER_DEFAULT_PLATFORM;
  const q: Query = {
    t: o.tag?.length ? o.tag : undefined,
    buildargs: Object.keys(args).length ? JSON.stringify(args) : undefined,
    labels: Object.keys(meta).length ? JSON.stringify(meta) : undefined,
    q: o.quiet || undefined,
    nocache: o.cache === false || undefined,
    pull: o.pull || undefined,
    // the daemon removes intermediate containers unless told not to
    rm: o.rm === false ? false : undefined,
    forcerm: o.forceRm || undefined,
    target: o.target || undefined,
    networkmode: o.network && o.network !== 'default' ? o.network : undefined,
    // one value per host, as docker's client sends them
    extrahosts: hosts.length ? hosts : undefined,
    platform: platform ? platform.toLowerCase() : undefined,
    cachefrom: cacheFrom.length ? JSON.stringify(cacheFrom) : undefined,
    shmsize: bytesFlag(o.shmSize, '--shm-size') || undefined,
    memory: bytesFlag(o.memory, '-m, --memory') || undefined,
    memswap: bytesFlag(o.memorySwap, '--memory-swap', true) || undefined,
    cpushares: intFlag(o.cpuShares, '-c, --cpu-shares') || undefined,
    cpuperiod: intFlag(o.cpuPeriod, '--cpu-period') || undefined,
    cpuquota: intFlag(o.cpuQuota, '--cpu-quota') || undefined,
    cpusetcpus: o.cpusetCpus || undefined,
    cpusetmems: o.cpusetMems || undefined,
    cgroupparent: o.cgroupParent || undefined,
  };
  return q;
}

// ---- the context ----

interface PreparedContext {
  body: Readable;
  /** The `dockerfile` query value: the Dockerfile's path in the context. */
  dockerfile?: string;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied', ELOOP: 'too many levels of symbolic links',
};
const errnoText = (e: unknown) => ERRNO_TEXT[(e as NodeJS.ErrnoException).code ?? ''] ?? (e as Error).message;

/** Go's EvalSymlinks failure: "lstat <first path that fails>: <reason>". */
function evalSymlinksError(abs: string): string {
  const parts = abs.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = `/${parts.slice(0, i).join('/')}`;
    try { lstatSync(p); } catch (e) { return `lstat ${p}: ${errnoText(e)}`; }
  }
  return `lstat ${abs}: ${errnoText(undefined)}`;
}

const isUrl = (s: string) => s.startsWith('http://') || s.startsWith('https://');
const isGitUrl = (s: string) => (isUrl(s) && /\.git(?:#.+)?$/.test(s)) || ['git://', 'github.com/', 'git@'].some((p) => s.startsWith(p));

async function readAll(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** The name docker gives a Dockerfile it adds to the context. */
// crypto and zlib are loaded only when needed: each costs every build a millisecond or two of start-up
const lazy = <T>(name: string) => createRequire(import.meta.url)(name) as T;
const generatedDockerfileName = () => `.dockerfile.${lazy<typeof import('node:crypto')>('node:crypto').randomBytes(10).toString('hex')}`;

/** `-`: a tar (plain or compressed) is the context; anything else is a Dockerfile, alone in an empty context. */
async function contextFromStdin(stdin: Readable, file: string | undefined): Promise<PreparedContext> {
  // docker looks at two blocks: a compression magic number, or a tar header
  const { head, stream: whole } = await peek(stdin, 1024);
  if (isArchive(head)) return { body: whole, dockerfile: file };
  if (file) throw new Error('unable to prepare context: ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles');
  const content = await readAll(whole);
  return { body: Readable.from([singleFileTar('Dockerfile', content, Math.floor(Date.now() / 1000))]), dockerfile: 'Dockerfile' };
}

function contextDirectory(spec: string): string {
  let dir: string;
  try { dir = realpathSync(resolve(spec)); } catch { throw new Error(`unable to prepare context: unable to evaluate symlinks in context path: ${evalSymlinksError(resolve(spec))}`); }
  if (!lstatSync(dir).isDirectory()) throw new Error(`unable to prepare context: context must be a directory: ${dir}`);
  return dir;
}

/** The Dockerfile's real path: -f is relative to the current directory; by default PATH/Dockerfile (or PATH/dockerfile). */
function dockerfilePath(dir: string, file: string | undefined): string {
  let path = file ? resolve(file) : join(dir, 'Dockerfile');
  if (!file) {
    const exists = (p: string) => { try { lstatSync(p); return true; } catch { return false; } };
    if (!exists(path) && exists(join(dir, 'dockerfile'))) path = join(dir, 'dockerfile');
  }
  try { return realpathSync(path); } catch { throw new Error(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: ${evalSymlinksError(path)}`); }
}

async function contextFromDirectory(spec: string, file: string | undefined, stdin: () => Readable): Promise<PreparedContext> {
  const dir = contextDirectory(spec);
  const fromStdin = file === '-';
  let relDockerfile: string | undefined;
  let extra: { name: string; content: Buffer } | undefined;
  if (fromStdin) {
    extra = { name: generatedDockerfileName(), content: await readAll(stdin()) };
  } else {
    relDockerfile = relative(dir, dockerfilePath(dir, file));
    // outside the context: its content travels inside the context under a generated name
    if (relDockerfile === '..' || relDockerfile.startsWith('../')) {
      let content: Buffer;
      try { content = readFileSync(file!); } catch (e) { throw new Error(`unable to open Dockerfile: open ${file}: ${errnoText(e)}`, { cause: e }); }
      extra = { name: generatedDockerfileName(), content };
    }
  }
  let matcher;
  try {
    matcher = contextMatcher(readIgnorePatterns(dir), extra ? undefined : relDockerfile);
  } catch (e) {
    if (e instanceof BadPatternError) throw new Error(`error checking context: ${e.message}`, { cause: e });
    throw e;
  }
  const { stream } = packContext({ dir, matcher, extraDockerfile: extra });
  return { body: stream, dockerfile: extra ? extra.name : relDockerfile };
}

/** `stdin` is only opened when the context or the Dockerfile comes from it. */
async function prepareContext(spec: string, file: string | undefined, stdin: () => Readable): Promise<PreparedContext> {
  if (spec === '-') {
    if (file === '-') throw new Error("invalid argument: can't use stdin for both build context and dockerfile");
    return contextFromStdin(stdin(), file);
  }
  let local = false;
  try { statSync(spec); local = true; } catch { /* not a local path: maybe a URL */ }
  if (local) return contextFromDirectory(spec, file, stdin);
  if (isGitUrl(spec) || isUrl(spec)) throw new Error(`unable to prepare context: ${JSON.stringify(spec)}: remote contexts (git repositories, URLs) are not supported`);
  throw new Error(`unable to prepare context: path ${JSON.stringify(spec)} not found`);
}

// ---- registry credentials ----

/** X-Registry-Config: every stored credential, for the registries of FROM images (unreadable credentials: none). */
export function registryConfig(dir = configDir()): string {
  const auths: Record<string, { username: string; password: string; serveraddress: string; identitytoken?: string }> = {};
  try {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { auths?: Record<string, { auth?: string; identitytoken?: string }> };
    for (const [server, entry] of Object.entries(config.auths ?? {})) {
      const plain = entry.auth ? Buffer.from(entry.auth, 'base64').toString('utf8') : '';
      const i = plain.indexOf(':');
      if (i < 0 && !entry.identitytoken) continue;
      auths[server] = {
        username: i < 0 ? '' : plain.slice(0, i), password: i < 0 ? '' : plain.slice(i + 1), serveraddress: server,
        ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
      };
    }
  } catch {
    return Buffer.from('{}').toString('base64url');
  }
  // base64url with padding, as docker's client encodes it
  return Buffer.from(JSON.stringify(auths)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

// ---- output ----

/** docker's upload line: "Sending build context to … daemon  2.048kB". */
const sendingLine = (bytes: number) => `Sending build context to tugboat daemon ${humanSizePrec(bytes, 4).padStart(8)}`;

interface Outcome { imageId?: string; error?: { code: number; message: string } }

/** Passes messages on, noting the image ID (aux) and the error (errorDetail) on the way. */
async function* noting(messages: AsyncIterable<JsonMessage>, outcome: Outcome): AsyncGenerator<JsonMessage> {
  for await (const m of messages) {
    const aux = m.aux as { ID?: unknown } | undefined;
    if (aux && typeof aux.ID === 'string') outcome.imageId = aux.ID;
    if (m.errorDetail || m.error) outcome.error = { code: m.errorDetail?.code || 1, message: m.errorDetail?.message ?? m.error ?? 'unknown error' };
    yield m;
  }
}

/** The build's exit: docker's code for a failed build is the error's code, 1 by default. */
const failure = (outcome: Outcome, e: unknown) => (e instanceof StreamError ? new ExitError(outcome.error?.code || 1, e.message) : e);

type Mode = 'plain' | 'compact' | 'quiet';

function outputMode(o: BuildFlags): Mode {
  const progress = o.progress ?? 'auto';
  if (!['auto', 'plain', 'tty'].includes(progress)) throw flagError(progress, '--progress', 'use one of "auto", "plain" or "tty"');
  if (o.quiet) return 'quiet';
  if (progress === 'plain' || (progress === 'auto' && !process.stdout.isTTY)) return 'plain';
  return 'compact';
}

/** A stand-in output stream that keeps what is written (for -q, where output shows only on failure). */
function collector(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY: false, write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

/** Sends the context and shows the build; returns the image ID, if the daemon gave it. */
async function runBuild(client: EngineClient, prepared: PreparedContext, query: Query, mode: Mode, compress: boolean): Promise<string | undefined> {
  let sent = 0;
  let uploaded = false;
  const counter = new Transform({ transform(chunk: Buffer, _enc, done) { sent += chunk.length; done(null, chunk); } });
  // an error while packing (an unreadable file) ends the command with it: the daemon must not get half a context
  const contextFailed = new Promise<never>((_, reject) => {
    const stages = compress ? [prepared.body, lazy<typeof import('node:zlib')>('node:zlib').createGzip(), counter] : [prepared.body, counter];
    pipeline(stages as [Readable, Transform], (e) => { if (e) reject(e); });
  });
  contextFailed.catch(() => undefined);

  const quietLog = collector();
  const view = mode === 'compact' ? new CompactBuildView({ write: (s) => out(s), columns: () => process.stdout.columns || 80 }) : undefined;
  const tty = !!process.stdout.isTTY;
  const showUpload = (final: boolean) => {
    if (mode === 'quiet') { if (final) quietLog.stream.write(`${sendingLine(sent)}\r\r\n`); return; }
    if (view) {
      view.setStatus(sendingLine(sent));
      if (final) view.logOnly(`${sendingLine(sent)}\r\r\n`);
      return;
    }
    if (final) out(`${sendingLine(sent)}\r\r\n`);
    else if (tty) out(`${sendingLine(sent)}\r`);
  };
  counter.on('end', () => { uploaded = true; showUpload(true); });
  const ticker = setInterval(() => { if (!uploaded) showUpload(false); view?.render(); }, 100);

  const outcome: Outcome = {};
  try {
    const messages = noting(await Promise.race([client.imageBuild(counter, { ...query, dockerfile: prepared.dockerfile }, registryConfig()), contextFailed]), outcome);
    const shown = (async () => {
      if (mode === 'plain') await displayProgress(messages, process.stdout);
      else if (mode === 'quiet') await displayProgress(messages, quietLog.stream);
      else await compactView(messages, view!);
    })();
    shown.catch(() => undefined); // observed by the race; a late failure after a context error is of no interest
    await Promise.race([shown, contextFailed]);
  } catch (e) {
    if (mode === 'quiet') err(quietLog.text());
    throw failure(outcome, e);
  } finally {
    clearInterval(ticker);
  }
  if (mode === 'quiet') out(outcome.imageId ? `${outcome.imageId}\n` : quietLog.text());
  return outcome.imageId;
}

async function compactView(messages: AsyncIterable<JsonMessage>, view: CompactBuildView): Promise<void> {
  try {
    for await (const m of messages) {
      if (m.errorDetail || m.error) throw new StreamError(m.errorDetail?.message ?? m.error ?? 'unknown error');
      if (m.stream) view.stream(m.stream);
      else if (m.status) view.pull(m);
    }
  } catch (e) {
    view.fail();
    throw e;
  }
  view.render();
  view.succeed();
}

export async function build(cmd: Command, spec: string): Promise<void> {
  const o = cmd.opts() as BuildFlags;
  const query = buildQuery(o);
  const mode = outputMode(o);
  if (o.iidfile) {
    // no stale ID is left behind if this build fails
    try { rmSync(o.iidfile, { force: true }); } catch (e) { throw new Error(`Removing image ID file: ${(e as Error).message}`, { cause: e }); }
  }
  const prepared = await prepareContext(spec, o.file, () => process.stdin);
  const imageId = await runBuild(clientFor(cmd), prepared, query, mode, !!o.compress);
  if (o.iidfile) {
    if (!imageId) throw new Error(`Server did not provide an image ID. Cannot write ${o.iidfile}`);
    writeFileSync(o.iidfile, imageId);
  }
}

// ---- builder prune ----

export async function builderPrune(cmd: Command): Promise<void> {
  const o = cmd.opts() as { all?: boolean; force?: boolean; filter?: string[]; keepStorage?: string };
  const filters = parseFilters(o.filter);
  const keepStorage = bytesFlag(o.keepStorage, '--keep-storage');
  const warning = o.all
    ? 'WARNING! This will remove all build cache. Are you sure you want to continue?'
    : 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
  if (!o.force && !(await confirm(`${warning} [y/N] `))) return;
  const r = await clientFor(cmd).buildPrune({ all: o.all, filters, keepStorage });
  if (r.deleted.length) out(`Deleted build cache objects:\n${r.deleted.map((id) => `${id}\n`).join('')}\n`);
  out(`Total reclaimed space: ${humanSizePrec(r.reclaimed, 4)}\n`);
}
