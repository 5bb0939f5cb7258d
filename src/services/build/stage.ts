// One build stage: FROM, then each instruction evaluated against the stage's config, looked up in the cache,
// and otherwise run as a step — a metadata-only image for config instructions, a step container + commit for
// RUN, COPY and ADD. Output goes to the stage's sink in docker's legacy builder wording.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Image, ImageConfigDoc, ImageRunConfig } from '../images/types.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from '../containers/types.js';
import type { BuildEngine } from './engine.js';
import type { BuildCache } from './cache.js';
import { cacheKey } from './cache.js';
import { type BuildContext, ContextError } from './context.js';
import { parseDockerfile, type Instruction } from './dockerfile.js';
import { expandWord, expandWords, WordError, type Lookup } from './words.js';
import { BuildError } from './errors.js';
import { checkFlags, envValue, exposedPorts, healthcheck, nopCreatedBy, PROXY_ARGS, quotedList, setEnv } from './instructions.js';
import { applyPlan, copyBetween, destinationPath, ensureDir, isArchive, layerTar, planCopy, type CopySource, type Owner } from './copy.js';
import { containerOwner } from '../archive/owner.js';
import type { ProgressMessage } from '../images/pull.js';
import type { Credentials } from '../registry/auth.js';
import { shortId } from '../../util/ids.js';
import { errorMessage } from '../../util/errors.js';

export interface StageSink {
  stream(text: string): void;
  progress(m: ProgressMessage): void;
}

export interface StageDef {
  index: number;
  name?: string;
  /** The base as written after expansion: an image reference, a stage name, or "scratch". */
  base: string;
  platform?: string;
  from: Instruction;
  body: Instruction[];
}

/** What every stage of one build shares. */
export interface BuildShared {
  engine: BuildEngine;
  cache: BuildCache;
  context: BuildContext;
  escape: '\\' | '`';
  buildArgs: Record<string, string | null>;
  /** ARGs declared before the first FROM, with their values. */
  metaArgs: Map<string, string | undefined>;
  /** Build args some ARG declared (for docker's "not consumed" warning). */
  consumed: Set<string>;
  noCache: boolean;
  pull: boolean;
  platform?: string;
  host: HostConfig;
  forceRm: boolean;
  rm: boolean;
  creds(ref: string): Credentials | undefined;
  /** The image a stage (by name or index) ends with; undefined when `ref` is no stage. */
  stageImage(ref: string): Promise<Image> | undefined;
  /** Set when another stage failed: stop at the next step. */
  aborted(): boolean;
}

const SCRATCH_DOC: ImageConfigDoc = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

export class StageRun {
  private image?: Image;
  private doc: ImageConfigDoc = structuredClone(SCRATCH_DOC);
  private config: ImageRunConfig = {};
  private readonly args = new Map<string, string | undefined>();
  private cmdSet = false;
  private readonly containers = new Set<ContainerRecord>();

  constructor(private readonly b: BuildShared, private readonly def: StageDef, private readonly out: StageSink, private readonly step: { next(): string }) {}

  private get shell(): string[] { return this.config.Shell?.length ? this.config.Shell : ['/bin/sh', '-c']; }

  /** Variables for expansion: ENV wins over ARG, as in docker. */
  private lookup: Lookup = (name) => envValue(this.config.Env, name) ?? (this.args.has(name) ? this.args.get(name) : undefined);

  private word(w: string): string {
    try { return expandWord(w, this.lookup, this.b.escape); } catch (e) { throw new BuildError(e instanceof WordError ? e.message : errorMessage(e)); }
  }

  private words(ws: string[]): string[] {
    try { return ws.flatMap((w) => expandWords(w, this.lookup, this.b.escape)); } catch (e) { throw new BuildError(e instanceof WordError ? e.message : errorMessage(e)); }
  }

  async run(): Promise<Image | undefined> {
    try {
      this.out.stream(`Step ${this.step.next()} : ${this.def.from.original}\n`);
      await this.from();
      for (const ins of this.def.body) {
        if (this.b.aborted()) throw new BuildError('build cancelled');
        this.out.stream(`Step ${this.step.next()} : ${ins.original}\n`);
        await this.dispatch(ins);
      }
      return this.image;
    } finally {
      for (const rec of this.containers) await this.b.engine.removeContainer(rec).catch(() => undefined);
    }
  }

  private async from(): Promise<void> {
    const base = this.def.base;
    let image: Image | undefined;
    if (base.toLowerCase() === 'scratch') image = undefined;
    else {
      const staged = this.b.stageImage(base);
      image = staged ? await staged : await this.baseImage(base, this.def.platform);
    }
    if (image) {
      this.image = image;
      this.doc = structuredClone(image.config);
      this.config = structuredClone(image.config.config ?? {});
      this.out.stream(` ---> ${shortId(image.id)}\n`);
    }
    const triggers = this.config.OnBuild ?? [];
    this.config.OnBuild = null;
    if (triggers.length) {
      this.out.stream(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}\n`);
      for (const t of triggers) {
        const parsed = parseDockerfile(t).instructions[0];
        if (!parsed) continue;
        await this.dispatch(parsed);
      }
    }
  }

  private async baseImage(ref: string, platform: string | undefined): Promise<Image> {
    const local = this.b.engine.image(ref);
    if (local && !this.b.pull) return local;
    try {
      return await this.b.engine.pull(ref, { platform: platform ?? this.b.platform, creds: this.b.creds(ref), progress: (m) => this.out.progress(m) });
    } catch (e) {
      if (local) return local;
      throw new BuildError(errorMessage(e));
    }
  }

  private async dispatch(ins: Instruction): Promise<void> {
    switch (ins.keyword) {
      case 'RUN': return this.runStep(ins);
      case 'COPY': return this.copyStep(ins, false);
      case 'ADD': return this.copyStep(ins, true);
      case 'FROM': throw new BuildError('FROM is not allowed here');
      default: return this.configStep(ins);
    }
  }

  // ---- config-only instructions ----

  private async configStep(ins: Instruction): Promise<void> {
    const c = this.config;
    let text: string;
    switch (ins.keyword) {
      case 'ENV': {
        const pairs = (ins.pairs ?? []).map(([k, v]) => [this.word(k), this.word(v ?? '')] as const);
        for (const [k] of pairs) if (!k) throw new BuildError('ENV names can not be blank');
        for (const [k, v] of pairs) c.Env = setEnv(c.Env ?? [], k, v);
        text = `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
        break;
      }
      case 'LABEL': {
        const pairs = (ins.pairs ?? []).map(([k, v]) => [this.word(k), this.word(v ?? '')] as const);
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs) { if (!k) throw new BuildError('LABEL names can not be blank'); c.Labels[k] = v; }
        text = `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
        break;
      }
      case 'ARG': {
        const parts: string[] = [];
        for (const [name, dflt] of ins.pairs ?? []) {
          let value: string | undefined;
          const given = this.b.buildArgs[name];
          if (given !== undefined && given !== null) value = given;
          else if (dflt !== undefined) value = this.word(dflt);
          else if (this.b.metaArgs.has(name)) value = this.b.metaArgs.get(name);
          this.args.set(name, value);
          if (name in this.b.buildArgs) this.b.consumed.add(name);
          parts.push(dflt !== undefined ? `${name}=${dflt}` : name);
        }
        text = `ARG ${parts.join(' ')}`;
        break;
      }
      case 'CMD':
        c.Cmd = ins.json ? ins.args : [...this.shell, ins.args.join(' ')];
        this.cmdSet = true;
        text = `CMD ${quotedList(c.Cmd)}`;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = ins.json ? ins.args : [...this.shell, ins.args.join(' ')];
        // an ENTRYPOINT resets a CMD that came from the base image
        if (!this.cmdSet) c.Cmd = null;
        text = `ENTRYPOINT ${quotedList(c.Entrypoint)}`;
        break;
      case 'EXPOSE': {
        const words = this.words(ins.args);
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of exposedPorts(words)) c.ExposedPorts[p] = {};
        // history shows the ports as written, as docker's does
        text = `EXPOSE ${words.join(' ')}`;
        break;
      }
      case 'VOLUME': {
        const vols = ins.json ? ins.args.map((a) => this.word(a)) : this.words(ins.args);
        if (!vols.length || vols.some((v) => v.trim() === '')) throw new BuildError('VOLUME specified can not be an empty string');
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) c.Volumes[v] = {};
        text = `VOLUME [${vols.join(' ')}]`;
        break;
      }
      case 'USER':
        c.User = this.word(ins.args[0] ?? '');
        text = `USER ${c.User}`;
        break;
      case 'WORKDIR': {
        const dir = this.word(ins.args[0] ?? '');
        c.WorkingDir = posix.isAbsolute(dir) ? posix.normalize(dir) : posix.join(c.WorkingDir || '/', dir);
        text = `WORKDIR ${c.WorkingDir}`;
        break;
      }
      case 'STOPSIGNAL':
        c.StopSignal = this.word(ins.args[0] ?? '');
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(c.StopSignal)) throw new BuildError(`Invalid signal: ${c.StopSignal}`);
        text = `STOPSIGNAL ${c.StopSignal}`;
        break;
      case 'MAINTAINER':
        this.doc.author = ins.args[0] ?? '';
        text = `MAINTAINER ${this.doc.author}`;
        break;
      case 'SHELL':
        if (!ins.json || !ins.args.length) throw new BuildError('SHELL requires the arguments to be in JSON form');
        c.Shell = ins.args;
        text = `SHELL ${quotedList(ins.args)}`;
        break;
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(ins);
        text = `HEALTHCHECK ${ins.original.replace(/^\s*\S+\s*/, '')}`;
        break;
      case 'ONBUILD': {
        const inner = ins.original.replace(/^\s*\S+\s+/, '');
        c.OnBuild = [...(c.OnBuild ?? []), inner];
        text = `ONBUILD ${inner}`;
        break;
      }
      default:
        throw new BuildError(`unknown instruction: ${ins.keyword}`);
    }
    await this.metadataImage(nopCreatedBy(this.shell, text));
  }

  /** A new image that differs from the current one in its config and history only. */
  private async metadataImage(createdBy: string): Promise<void> {
    const key = cacheKey(['config', this.image?.id ?? '', createdBy, this.config, this.doc.author ?? '']);
    if (await this.fromCache(key)) return;
    const now = new Date().toISOString();
    const doc: ImageConfigDoc = {
      ...this.doc,
      created: now,
      config: structuredClone(this.config),
      history: [...(this.doc.history ?? []), { created: now, created_by: createdBy, empty_layer: true }],
    };
    const image = await this.b.engine.addImage(doc, this.image?.id);
    await this.b.cache.put(key, image.id, createdBy);
    this.adopt(image);
  }

  private async fromCache(key: string): Promise<boolean> {
    if (this.b.noCache) return false;
    const id = this.b.cache.get(key, (i) => !!this.b.engine.image(i));
    const image = id ? this.b.engine.image(id) : undefined;
    if (!image) return false;
    this.out.stream(' ---> Using cache\n');
    this.adopt(image);
    return true;
  }

  /** The step's image becomes the stage's current one. */
  private adopt(image: Image): void {
    this.image = image;
    this.doc = structuredClone(image.config);
    this.config = structuredClone(image.config.config ?? {});
    this.out.stream(` ---> ${shortId(image.id)}\n`);
  }

  // ---- steps with files ----

  /** ARGs with values, as RUN sees them (and as its history shows them: "|2 A=1 B=2 /bin/sh -c …"). */
  private runArgs(): { env: string[]; prefix: string } {
    const declared = [...this.args].filter(([k, v]) => v !== undefined && envValue(this.config.Env, k) === undefined).map(([k, v]) => `${k}=${v}`).sort();
    const proxies = Object.entries(this.b.buildArgs).filter(([k, v]) => PROXY_ARGS.has(k) && v !== null && !this.args.has(k)).map(([k, v]) => `${k}=${v}`);
    return { env: [...declared, ...proxies], prefix: declared.length ? `|${declared.length} ${declared.join(' ')} ` : '' };
  }

  private async stepContainer(config: ContainerConfig, files = false): Promise<ContainerRecord> {
    const image = this.image ?? await this.scratchImage();
    const rec = await this.b.engine.createContainer(image, config, structuredClone(this.b.host), { files });
    this.containers.add(rec);
    return rec;
  }

  private async scratchImage(): Promise<Image> {
    this.image = await this.b.engine.addImage(structuredClone(SCRATCH_DOC));
    return this.image;
  }

  private async finishStep(rec: ContainerRecord, createdBy: string, key: string, ran: boolean): Promise<void> {
    const image = await this.b.engine.commit(rec, structuredClone(this.config), createdBy);
    if (this.b.rm || this.b.forceRm) {
      if (ran) this.out.stream(`Removing intermediate container ${shortId(rec.Id)}\n`);
      await this.b.engine.removeContainer(rec);
      this.containers.delete(rec);
    }
    await this.b.cache.put(key, image.id, createdBy);
    this.adopt(image);
  }

  private async runStep(ins: Instruction): Promise<void> {
    checkFlags(ins, ['network', 'mount', 'security']);
    let cmd: string[];
    if (ins.json) cmd = ins.args;
    else {
      let script = ins.args.join(' ');
      const only = ins.heredocs.length === 1 && new RegExp(`^<<-?(["']?)${escapeRe(ins.heredocs[0].name)}\\1$`).test(script.trim());
      if (only) script = ins.heredocs[0].content;
      // any other heredoc is the shell's own: hand it the bodies as it would read them from a script
      else for (const h of ins.heredocs) script += `\n${h.content}${h.name}`;
      cmd = [...this.shell, script];
    }
    const { env, prefix } = this.runArgs();
    const createdBy = `${prefix}${cmd.join(' ')}`;
    const key = cacheKey(['run', this.image?.id ?? '', createdBy, this.config, this.b.host.NetworkMode ?? '']);
    if (await this.fromCache(key)) return;
    const config: ContainerConfig = {
      ...structuredClone(this.config),
      Cmd: cmd, Entrypoint: [''], Env: [...(this.config.Env ?? []), ...env],
      Healthcheck: { Test: ['NONE'] }, OnBuild: null,
      AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false,
    };
    const rec = await this.stepContainer(config);
    this.out.stream(` ---> Running in ${shortId(rec.Id)}\n`);
    if (this.config.WorkingDir) await this.b.engine.withFiles(rec, (root) => ensureDir(root, this.config.WorkingDir!));
    let code: number;
    try {
      code = await this.b.engine.run(rec, (data) => this.out.stream(data.toString('utf8')));
    } catch (e) {
      throw new BuildError(errorMessage(e), 127);
    }
    if (code !== 0) throw new BuildError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
    await this.finishStep(rec, createdBy, key, true);
  }

  private async copyStep(ins: Instruction, isAdd: boolean): Promise<void> {
    const name = isAdd ? 'ADD' : 'COPY';
    const flags = checkFlags(ins, isAdd ? ['chown', 'chmod', 'checksum', 'link', 'keep-git-dir'] : ['from', 'chown', 'chmod', 'link', 'parents']);
    const words = ins.json ? ins.args.map((a) => this.word(a)) : this.words(ins.args);
    if (words.length < 2) throw new BuildError(`${name} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const dest = destinationPath(words[words.length - 1], this.config.WorkingDir);
    const srcs = words.slice(0, -1);
    const chown = flags.has('chown') ? this.word(flags.get('chown') ?? '') : undefined;
    const chmodText = flags.get('chmod');
    let chmod: number | undefined;
    if (chmodText !== undefined) {
      if (!/^[0-7]{3,4}$/.test(chmodText)) throw new BuildError(`invalid chmod parameter: ${chmodText}`);
      chmod = parseInt(chmodText, 8);
    }
    const from = flags.get('from');
    if (from !== undefined) return this.copyFrom(name, this.word(from), srcs, dest, chown, chmod);

    const sources: CopySource[] = [];
    const hashes: string[] = [];
    for (const src of srcs) {
      const heredoc = ins.heredocs.find((h) => new RegExp(`^<<-?(["']?)${escapeRe(h.name)}\\1$`).test(src));
      if (heredoc) {
        const data = Buffer.from(heredoc.expand ? this.word(`"${heredoc.content.replace(/(["\\])/g, '\\$1')}"`) : heredoc.content);
        sources.push({ kind: 'bytes', name: heredoc.name, data, mode: 0o644, mtime: Math.floor(Date.now() / 1000) });
        hashes.push(`heredoc:${heredoc.name}:${sha(data)}`);
        continue;
      }
      if (isAdd && /^https?:\/\//i.test(src)) {
        const got = await download(src, flags.get('checksum'));
        sources.push({ kind: 'bytes', name: got.name, data: got.data, mode: 0o600, mtime: got.mtime });
        hashes.push(`url:${src}:${sha(got.data)}`);
        continue;
      }
      // each match as written (its name is what lands) and as resolved (a symlink's target is what is copied)
      let found: Array<{ written: string; name: string }>;
      try {
        const ctx = this.b.context;
        const matches = ctx.isGlob(src) ? ctx.glob(src) : [src];
        found = matches.map((m) => ({ written: m, name: ctx.resolve(m) })).filter((f): f is { written: string; name: string } => f.name !== undefined);
      } catch (e) {
        if (e instanceof ContextError) throw new BuildError(`${name} failed: ${e.message}`);
        throw e;
      }
      if (!found.length) {
        if (this.b.context.isGlob(src)) throw new BuildError(`${name} failed: no source files were specified`);
        throw new BuildError(`${name} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
      }
      for (const { written, name: n } of found) {
        const entry = this.b.context.entry(n) ?? { name: '', kind: 'dir' as const, mode: 0o755, size: 0, mtime: 0, offset: 0, hash: '' };
        const base = posix.basename(posix.normalize(`/${written}`));
        if (isAdd && entry.kind === 'file' && await isArchive(this.b.context, entry)) sources.push({ kind: 'archive', name: n, entry });
        else sources.push({ kind: 'context', name: n, entry, base });
        hashes.push(`${entry.kind}:${base}:${n}:${entry.kind === 'dir' ? this.b.context.hashOf(n) : entry.hash}`);
      }
    }
    const sum = sha(hashes.join('\n'));
    const what = sources.length > 1 ? 'multi' : sources[0]?.kind === 'context' && sources[0].entry.kind === 'dir' ? 'dir' : 'file';
    const createdBy = `${this.shell.join(' ')} #(nop) ${name} ${what}:${sum} in ${dest} `;
    const key = cacheKey(['copy', this.image?.id ?? '', createdBy, chown ?? '', chmod ?? '', this.config]);
    if (await this.fromCache(key)) return;
    const rec = await this.stepContainer({ ...structuredClone(this.config), Cmd: ['/bin/sh', '-c', `#(nop) ${name} ${what}:${sum} in ${dest} `], Entrypoint: [''] }, true);
    // planned against the image's files; without archives the plan is written as the layer itself (nothing unpacked,
    // walked or deleted), else it is carried out in the step container, which is then committed
    let owner: Owner | undefined;
    const plan = await this.b.engine.withFiles(rec, async (root) => {
      owner = chown ? containerOwner(root, chown) : undefined;
      const p = planCopy(root, this.b.context, sources, dest, { owner, chmod, instruction: name, alsoDirs: this.config.WorkingDir ? [this.config.WorkingDir] : [] });
      if (p.archives.length) await applyPlan(root, this.b.context, p, owner, chmod);
      return p;
    });
    if (!plan.archives.length) {
      await this.b.engine.removeContainer(rec);
      this.containers.delete(rec);
      const image = await this.b.engine.layerImage(this.image, layerTar(this.b.context, plan, owner, chmod), structuredClone(this.config), createdBy);
      await this.b.cache.put(key, image.id, createdBy);
      this.adopt(image);
      return;
    }
    await this.finishStep(rec, createdBy, key, false);
  }

  private async copyFrom(name: string, from: string, srcs: string[], dest: string, chown: string | undefined, chmod: number | undefined): Promise<void> {
    const staged = this.b.stageImage(from);
    const source = staged ? await staged : await this.baseImage(from, undefined);
    const createdBy = `${this.shell.join(' ')} #(nop) ${name} --from=${from} ${srcs.join(' ')} in ${dest} `;
    const key = cacheKey(['copy-from', this.image?.id ?? '', source.id, createdBy, chown ?? '', chmod ?? '', this.config]);
    if (await this.fromCache(key)) return;
    const src = await this.b.engine.createContainer(source, { ...structuredClone(source.config.config ?? {}), Cmd: ['/bin/true'], Entrypoint: [''] }, { NetworkMode: 'none' }, { files: true });
    this.containers.add(src);
    try {
      const rec = await this.stepContainer({ ...structuredClone(this.config), Cmd: ['/bin/sh', '-c', `#(nop) ${name} --from=${from}`], Entrypoint: [''] }, true);
      await this.b.engine.withFiles(src, (fromRoot) => this.b.engine.withFiles(rec, async (root) => {
        if (this.config.WorkingDir) await ensureDir(root, this.config.WorkingDir);
        const owner: Owner | undefined = chown ? containerOwner(root, chown) : undefined;
        await copyBetween(fromRoot, root, srcs, dest, { owner, chmod, instruction: name });
      }));
      await this.finishStep(rec, createdBy, key, false);
    } finally {
      await this.b.engine.removeContainer(src).catch(() => undefined);
      this.containers.delete(src);
    }
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** ADD <url>: the file, named after the URL's last path element, with its Last-Modified time. */
async function download(url: string, checksum: string | undefined): Promise<{ name: string; data: Buffer; mtime: number }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(10 * 60_000) });
  } catch (e) {
    throw new BuildError(`failed to download ${url}: ${errorMessage((e as Error & { cause?: unknown }).cause ?? e)}`);
  }
  if (!res.ok) throw new BuildError(`failed to GET ${url} with status ${res.status} ${res.statusText}`);
  const data = Buffer.from(await res.arrayBuffer());
  if (checksum !== undefined) {
    const m = /^sha256:([0-9a-f]{64})$/.exec(checksum);
    if (!m) throw new BuildError(`invalid checksum digest format: ${checksum}`);
    const got = sha(data);
    if (got !== m[1]) throw new BuildError(`digest mismatch for ${url}: expected sha256:${m[1]}, got sha256:${got}`);
  }
  const name = posix.basename(new URL(url).pathname);
  if (!name) throw new BuildError(`cannot determine filename from url: ${url}`);
  const lm = res.headers.get('last-modified');
  return { name, data, mtime: lm ? Math.floor(Date.parse(lm) / 1000) || 0 : 0 };
}
