// A Dockerfile build: the Dockerfile read from the context and parsed, split into stages, only the stages the
// target needs built — all at once, each waiting for the stages it uses — with their output shown in stage
// order as docker's legacy builder prints it, then the result tagged.
import type { Image } from '../images/types.js';
import type { HostConfig } from '../containers/types.js';
import type { Credentials } from '../registry/auth.js';
import type { ProgressMessage } from '../images/pull.js';
import type { BuildEngine } from './engine.js';
import type { BuildCache } from './cache.js';
import { ContextError, type BuildContext } from './context.js';
import { DockerfileParseError, parseDockerfile, type Instruction } from './dockerfile.js';
import { expandWord, WordError } from './words.js';
import { BuildError } from './errors.js';
import { PROXY_ARGS } from './instructions.js';
import { StageRun, type BuildShared, type StageDef, type StageSink } from './stage.js';
import { shortId } from '../../util/ids.js';
import { IgnoreMatcher, parseDockerignore } from '../../util/dockerignore.js';

export interface BuildRequest {
  context: BuildContext;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  /** Normalised references to tag the result with. */
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  target?: string;
  platform?: string;
  /** NetworkMode, ExtraHosts and resource limits of RUN containers. */
  host: HostConfig;
  rm: boolean;
  forceRm: boolean;
  creds(ref: string): Credentials | undefined;
  /** The client went away: stop at the next step. */
  cancelled?: () => boolean;
}

export interface BuildSink {
  stream(text: string): void;
  progress(m: ProgressMessage): void;
  aux(v: unknown): void;
}

/** Shows each stage's output in stage order: the first unfinished stage writes through, the others wait. */
class OrderedOutput {
  private readonly buffers = new Map<number, Array<(s: BuildSink) => void>>();
  private readonly finished = new Set<number>();
  private current = 0;

  constructor(private readonly sink: BuildSink, private readonly order: number[]) {}

  for(stage: number): StageSink {
    const emit = (f: (s: BuildSink) => void) => {
      if (this.order[this.current] === stage) f(this.sink);
      else { const b = this.buffers.get(stage) ?? []; b.push(f); this.buffers.set(stage, b); }
    };
    return { stream: (t) => emit((s) => s.stream(t)), progress: (m) => emit((s) => s.progress(m)) };
  }

  done(stage: number): void {
    this.finished.add(stage);
    while (this.current < this.order.length && this.finished.has(this.order[this.current])) {
      this.current++;
      const next = this.order[this.current];
      for (const f of this.buffers.get(next) ?? []) f(this.sink);
      this.buffers.delete(next);
    }
  }

  /** After a failure: whatever the other stages printed, in order. */
  flush(): void {
    for (const i of this.order.slice(this.current + 1)) for (const f of this.buffers.get(i) ?? []) f(this.sink);
    this.buffers.clear();
  }
}

export interface BuilderDeps { engine: BuildEngine; cache: BuildCache }

export class Builder {
  constructor(private readonly d: BuilderDeps) {}

  /** Reads and checks the Dockerfile: everything that can be refused before output starts. */
  async prepare(req: BuildRequest): Promise<PreparedBuild> {
    let name: string | undefined;
    try { name = req.context.resolve(req.dockerfile); } catch (e) { if (!(e instanceof ContextError)) throw e; }
    const entry = name !== undefined ? req.context.entry(name) : undefined;
    if (!entry || entry.kind !== 'file') throw new BuildError(`Cannot locate specified Dockerfile: ${req.dockerfile}`);
    const text = (await req.context.readFile(entry.name)).toString('utf8');
    await hideIgnoredBuildFiles(req.context, entry.name);
    let parsed;
    try { parsed = parseDockerfile(text); } catch (e) {
      if (e instanceof DockerfileParseError) throw new BuildError(e.message);
      throw e;
    }
    return new PreparedBuild(this.d, req, parsed.instructions, parsed.escape, parsed.warnings);
  }
}

/**
 * The client sends the Dockerfile and .dockerignore even when .dockerignore excludes them (the daemon must read
 * them); like docker, they are then no part of what COPY sees.
 */
async function hideIgnoredBuildFiles(ctx: BuildContext, dockerfile: string): Promise<void> {
  const ignore = ctx.entry('.dockerignore');
  if (ignore?.kind !== 'file') return;
  let matcher: IgnoreMatcher;
  try { matcher = new IgnoreMatcher(parseDockerignore((await ctx.readFile('.dockerignore')).toString('utf8'))); } catch { return; }
  for (const name of [dockerfile, '.dockerignore']) if (matcher.matches(name)) ctx.remove(name);
}

export class PreparedBuild {
  private readonly stages: StageDef[] = [];
  private readonly metaArgs = new Map<string, string | undefined>();

  constructor(private readonly d: BuilderDeps, private readonly req: BuildRequest, instructions: Instruction[], private readonly escape: '\\' | '`', readonly warnings: string[]) {
    const lookup = (n: string) => this.metaArgs.get(n);
    const word = (w: string) => { try { return expandWord(w, lookup, escape); } catch (e) { throw new BuildError(e instanceof WordError ? e.message : String(e)); } };
    let i = 0;
    for (; i < instructions.length && instructions[i].keyword !== 'FROM'; i++) {
      const ins = instructions[i];
      if (ins.keyword !== 'ARG') throw new BuildError('no build stage in current context');
      for (const [n, dflt] of ins.pairs ?? []) {
        const given = req.buildArgs[n];
        this.metaArgs.set(n, given !== undefined && given !== null ? given : dflt !== undefined ? word(dflt) : undefined);
      }
    }
    if (i >= instructions.length) throw new BuildError('No image was generated. Is your Dockerfile empty?');
    for (; i < instructions.length; i++) {
      const ins = instructions[i];
      if (ins.keyword === 'FROM') {
        const words = ins.args.map(word);
        if (words.length !== 1 && !(words.length === 3 && words[1].toLowerCase() === 'as')) throw new BuildError('FROM requires either one or three arguments');
        const stageName = words.length === 3 ? words[2].toLowerCase() : undefined;
        if (stageName !== undefined) {
          if (!/^[a-z][a-z0-9-_.]*$/.test(stageName)) throw new BuildError(`invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
          if (this.stages.some((s) => s.name === stageName)) throw new BuildError(`duplicate name ${stageName}`);
        }
        const platform = ins.flags.find((f) => f.name === 'platform')?.value;
        for (const f of ins.flags) if (f.name !== 'platform') throw new BuildError(`from: Unknown flag: ${f.name}`);
        if (!words[0]) throw new BuildError('base name (${...}) should not be blank');
        this.stages.push({ index: this.stages.length, name: stageName, base: words[0], platform: platform !== undefined ? word(platform) : undefined, from: ins, body: [] });
      } else this.stages[this.stages.length - 1].body.push(ins);
    }
  }

  private stageByRef(ref: string): StageDef | undefined {
    if (/^\d+$/.test(ref)) return this.stages[Number(ref)];
    return this.stages.find((s) => s.name === ref.toLowerCase());
  }

  private target(): StageDef {
    if (!this.req.target) return this.stages[this.stages.length - 1];
    const t = this.stages.find((s) => s.name === this.req.target!.toLowerCase());
    if (!t) throw new BuildError(`failed to reach build target ${this.req.target} in Dockerfile`);
    return t;
  }

  /** The stages the target needs, in file order: its base stages and the stages COPY --from names. */
  private needed(target: StageDef): StageDef[] {
    const need = new Set<number>();
    const visit = (s: StageDef) => {
      if (need.has(s.index)) return;
      need.add(s.index);
      const refs = [s.base, ...s.body.filter((ins) => ins.keyword === 'COPY').flatMap((ins) => ins.flags.filter((f) => f.name === 'from').map((f) => f.value ?? ''))];
      for (const r of refs) {
        let v: string;
        try { v = expandWord(r, (n) => this.metaArgs.get(n), this.escape); } catch { continue; }
        const dep = this.stageByRef(v);
        if (dep && dep.index < s.index) visit(dep);
      }
    };
    visit(target);
    return this.stages.filter((s) => need.has(s.index));
  }

  /** Runs the build; resolves with the image (tagged) or throws the first failure. */
  async run(sink: BuildSink): Promise<Image> {
    const target = this.target();
    const labels = Object.entries(this.req.labels);
    if (labels.length) {
      // docker's legacy builder adds --label as one more LABEL step of the target
      const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
      target.body.push({ keyword: 'LABEL', original: `LABEL ${labels.map(([k, v]) => `${JSON.stringify(k)}=${quote(v)}`).join(' ')}`, line: 0, endLine: 0, flags: [], json: false, args: [], pairs: labels.map(([k, v]) => [quote(k), quote(v)]), heredocs: [] });
    }
    const stages = this.needed(target);
    const total = stages.reduce((n, s) => n + 1 + s.body.length, 0);
    const output = new OrderedOutput(sink, stages.map((s) => s.index));
    for (const w of this.warnings) sink.stream(`[WARNING]: ${w}\n`);
    let counter = 0;
    const firstStep = new Map<number, number>();
    for (const s of stages) { firstStep.set(s.index, counter); counter += 1 + s.body.length; }
    const results = new Map<number, Promise<Image>>();
    let failure: { reason: unknown } | undefined;
    const consumed = new Set<string>();
    for (const [n] of this.metaArgs) if (n in this.req.buildArgs) consumed.add(n);
    const shared = (stage: StageDef): BuildShared => ({
      engine: this.d.engine, cache: this.d.cache, context: this.req.context, escape: this.escape,
      buildArgs: this.req.buildArgs, metaArgs: this.metaArgs, consumed,
      noCache: this.req.noCache, pull: this.req.pull, platform: this.req.platform, host: this.req.host,
      rm: this.req.rm, forceRm: this.req.forceRm, creds: (r) => this.req.creds(r),
      stageImage: (ref) => {
        const dep = this.stageByRef(ref);
        if (!dep || dep.index >= stage.index) return undefined;
        const p = results.get(dep.index);
        if (!p) throw new BuildError(`stage ${ref} is not built`);
        return p;
      },
      aborted: () => failure !== undefined || !!this.req.cancelled?.(),
    });
    for (const s of stages) {
      let n = firstStep.get(s.index)!;
      const run = new StageRun(shared(s), s, output.for(s.index), { next: () => `${++n}/${total}` });
      const p = run.run().then((img) => {
        if (!img) throw new BuildError('No image was generated. Is your Dockerfile empty?');
        return img;
      }).finally(() => output.done(s.index));
      // the first failure is the one to report; the others are its consequences
      p.catch((e: unknown) => { failure ??= { reason: e }; });
      results.set(s.index, p);
    }
    await Promise.allSettled(results.values());
    if (failure) {
      output.flush();
      throw failure.reason;
    }
    const image = await results.get(target.index)!;
    const unused = Object.keys(this.req.buildArgs).filter((k) => !consumed.has(k) && !PROXY_ARGS.has(k)).sort();
    if (unused.length) sink.stream(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    sink.aux({ ID: image.id });
    sink.stream(`Successfully built ${shortId(image.id)}\n`);
    for (const t of this.req.tags) {
      await this.d.engine.tag(image.id, t);
      sink.stream(`Successfully tagged ${t.replace(/^docker\.io\/(library\/)?/, '')}\n`);
    }
    return image;
  }
}
