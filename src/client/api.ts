// A typed Engine API client: one method per endpoint the CLI uses. Transport details live in transport.ts.
import type { Readable } from 'node:stream';
import { jsonMessages, type JsonMessage } from './jsonstream.js';
import { Transport, type Hijacked, type Query, type RawResponse } from './transport.js';
import { EngineError } from './errors.js';
import { decodePathStat, STAT_HEADER, type PathStat } from '../util/pathstat.js';
import type {
  ContainerChange, ContainerCreateBody, ContainerInspect, ContainerSummary, EndpointSettings, Filters, ImageDeleteItem, ImageSummary,
  NetworkCreateBody, NetworkInfo, PruneResult, TopResult, VersionInfo, Volume, VolumeCreateBody, VolumeListResponse, VolumePruneReport,
  WaitResult,
} from './types.js';

const enc = encodeURIComponent;

export interface LogsOptions {
  follow?: boolean;
  timestamps?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  stdout?: boolean;
  stderr?: boolean;
}

export interface AttachOptions { stdin?: boolean; stdout?: boolean; stderr?: boolean; logs?: boolean; detachKeys?: string }

/** A wait whose response headers have arrived (so the daemon is watching); `result` settles at exit. */
export interface PendingWait { result: Promise<WaitResult> }

function filtersOrUndefined(f?: Filters): Filters | undefined {
  return f && Object.keys(f).length ? f : undefined;
}

export interface ContainerStats {
  id: string;
  name: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats: { current?: number };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[];
  Containers?: ContainerSummary[];
  Volumes?: Array<{ Name: string; UsageData?: { Size: number; RefCount: number } }>;
  BuildCache?: Array<{ ID: string; Type?: string; Size: number; InUse: boolean; Shared: boolean; CreatedAt?: string; LastUsedAt?: string | null; UsageCount?: number }>;
}

export interface EngineEventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
  status?: string;
  id?: string;
  from?: string;
}

export class EngineClient {
  readonly t: Transport;

  constructor(host: string, version?: string) {
    this.t = new Transport(host, version);
  }

  get host(): string {
    return this.t.endpoint.display;
  }

  async ping(): Promise<string> {
    const r = await this.t.buffer('GET', '/_ping', { unversioned: true });
    return r.body.toString();
  }

  version(): Promise<VersionInfo> { return this.t.json('GET', '/version'); }

  /** tugboat's own: the web dashboard's login link (404 when the daemon serves none). */
  dashboardUrl(): Promise<{ URL: string }> { return this.t.json('GET', '/tugboat/dashboard'); }

  /** HEAD /containers/{id}/archive: what is at `path` in the container (docker cp's stat). */
  async containerStatPath(id: string, path: string): Promise<PathStat> {
    let r: RawResponse;
    try {
      r = await this.t.raw('HEAD', `/containers/${enc(id)}/archive`, { query: { path } });
    } catch (e) {
      // a HEAD answer has no body to carry the daemon's words
      if (e instanceof EngineError && e.status === 404) throw new EngineError(404, `Could not find the file ${path} in container ${id}`);
      throw e;
    }
    r.body.resume();
    const stat = decodePathStat(r.headers[STAT_HEADER.toLowerCase()]);
    if (!stat) throw new Error(`the daemon's answer has no ${STAT_HEADER} header`);
    return stat;
  }

  /** GET /containers/{id}/archive: a tar of `path` in the container, and what `path` is. */
  async containerArchive(id: string, path: string): Promise<{ stat: PathStat; body: Readable }> {
    const r = await this.t.raw('GET', `/containers/${enc(id)}/archive`, { query: { path } });
    const stat = decodePathStat(r.headers[STAT_HEADER.toLowerCase()]);
    if (!stat) { r.body.resume(); throw new Error(`the daemon's answer has no ${STAT_HEADER} header`); }
    return { stat, body: r.body };
  }

  /** PUT /containers/{id}/archive: a tar (plain or compressed) extracted into the directory `path`. */
  async containerPutArchive(id: string, path: string, archive: Readable, o: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    const r = await this.t.raw('PUT', `/containers/${enc(id)}/archive`, {
      query: { path, noOverwriteDirNonDir: o.noOverwriteDirNonDir || undefined, copyUIDGID: o.copyUIDGID || undefined },
      body: archive, headers: { 'Content-Type': 'application/x-tar' },
    });
    r.body.resume();
  }
  info(): Promise<Record<string, unknown>> { return this.t.json('GET', '/info'); }

  // ---- containers ----
  containerList(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.t.json('GET', '/containers/json', {
      query: { all: opts.all || undefined, limit: opts.limit, size: opts.size || undefined, filters: filtersOrUndefined(opts.filters) },
    });
  }

  containerCreate(body: ContainerCreateBody, name?: string, platform?: string): Promise<{ Id: string; Warnings?: string[] | null }> {
    return this.t.json('POST', '/containers/create', { query: { name: name || undefined, platform: platform || undefined }, body });
  }

  containerInspect(id: string, size = false): Promise<ContainerInspect> {
    return this.t.json('GET', `/containers/${enc(id)}/json`, { query: { size: size || undefined } });
  }

  async containerStart(id: string): Promise<void> {
    await this.t.buffer('POST', `/containers/${enc(id)}/start`);
  }

  async containerStop(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.t.buffer('POST', `/containers/${enc(id)}/stop`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  async containerRestart(id: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    await this.t.buffer('POST', `/containers/${enc(id)}/restart`, { query: { t: opts.timeout, signal: opts.signal } });
  }

  async containerKill(id: string, signal?: string): Promise<void> {
    await this.t.buffer('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }

  async containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    await this.t.buffer('DELETE', `/containers/${enc(id)}`, { query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined } });
  }

  async containerRename(id: string, name: string): Promise<void> {
    await this.t.buffer('POST', `/containers/${enc(id)}/rename`, { query: { name } });
  }

  async containerPause(id: string): Promise<void> { await this.t.buffer('POST', `/containers/${enc(id)}/pause`); }
  async containerUnpause(id: string): Promise<void> { await this.t.buffer('POST', `/containers/${enc(id)}/unpause`); }

  async containerUpdate(id: string, hostConfig: Record<string, unknown>): Promise<void> {
    await this.t.json('POST', `/containers/${enc(id)}/update`, { body: hostConfig });
  }

  /** One stats sample; without oneShot the daemon takes a second to fill precpu_stats. */
  containerStats(id: string, oneShot = false): Promise<ContainerStats> {
    return this.t.json('GET', `/containers/${enc(id)}/stats`, { query: { stream: false, ...(oneShot ? { 'one-shot': true } : {}) } });
  }

  containerTop(id: string, psArgs?: string): Promise<TopResult> {
    return this.t.json('GET', `/containers/${enc(id)}/top`, { query: { ps_args: psArgs || undefined } });
  }

  systemDf(types: string[] = []): Promise<DiskUsage> {
    return this.t.json('GET', '/system/df', { query: types.length ? { type: types } : {} });
  }

  imagePrune(filters?: Filters): Promise<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }> {
    return this.t.json('POST', '/images/prune', { query: { filters: filtersOrUndefined(filters) } });
  }

  /** POST /{networks,volumes,build}/prune: the names of what went (and the space, where the daemon counts it). */
  async objectPrune(kind: 'networks' | 'volumes' | 'build', filters?: Filters): Promise<{ deleted: string[]; reclaimed: number }> {
    const r = await this.t.json<Record<string, unknown>>('POST', `/${kind}/prune`, { query: { filters: filtersOrUndefined(filters) } });
    const key = kind === 'networks' ? 'NetworksDeleted' : kind === 'volumes' ? 'VolumesDeleted' : 'CachesDeleted';
    return { deleted: (r[key] as string[] | null) ?? [], reclaimed: Number(r.SpaceReclaimed ?? 0) };
  }

  containerPrune(filters?: Filters): Promise<PruneResult> {
    return this.t.json('POST', '/containers/prune', { query: { filters: filtersOrUndefined(filters) } });
  }

  async containerResize(id: string, h: number, w: number): Promise<void> {
    await this.t.buffer('POST', `/containers/${enc(id)}/resize`, { query: { h, w } });
  }

  /** GET /events: a stream of events, as long as the daemon sends them (until `until`, or forever). */
  async *events(o: { since?: string; until?: string; filters?: Filters } = {}): AsyncGenerator<EngineEventMessage> {
    const r = await this.t.raw('GET', '/events', { query: { since: o.since, until: o.until, filters: filtersOrUndefined(o.filters) } });
    yield* jsonMessages<EngineEventMessage>(r.body);
  }

  /** POST /containers/{id}/wait: resolves once the headers arrive; the body (the exit status) comes at exit. */
  async containerWait(id: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<PendingWait> {
    const r = await this.t.raw('POST', `/containers/${enc(id)}/wait`, { query: { condition } });
    const result = (async () => {
      const chunks: Buffer[] = [];
      for await (const c of r.body) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString().trim();
      if (!text) throw new Error('the daemon closed the wait request without an exit status');
      return JSON.parse(text) as WaitResult;
    })();
    result.catch(() => undefined); // observed by the caller; avoid an unhandled rejection before then
    return { result };
  }

  /** POST /containers/{id}/attach, hijacked. */
  containerAttach(id: string, o: AttachOptions): Promise<Hijacked> {
    return this.t.hijack('POST', `/containers/${enc(id)}/attach`, {
      query: { stream: true, stdin: o.stdin || undefined, stdout: o.stdout || undefined, stderr: o.stderr || undefined, logs: o.logs || undefined, detachKeys: o.detachKeys },
    });
  }

  containerLogs(id: string, o: LogsOptions): Promise<RawResponse> {
    return this.t.raw('GET', `/containers/${enc(id)}/logs`, {
      query: {
        stdout: o.stdout ?? true, stderr: o.stderr ?? true, follow: o.follow || undefined, timestamps: o.timestamps || undefined,
        tail: o.tail, since: o.since, until: o.until,
      },
    });
  }

  // ---- exec ----
  execCreate(id: string, body: Record<string, unknown>): Promise<{ Id: string }> {
    return this.t.json('POST', `/containers/${enc(id)}/exec`, { body });
  }

  execStart(execId: string, body: { Detach?: boolean; Tty?: boolean }): Promise<Hijacked> {
    return this.t.hijack('POST', `/exec/${enc(execId)}/start`, { body });
  }

  execResize(execId: string, h: number, w: number): Promise<void> {
    return this.t.buffer('POST', `/exec/${enc(execId)}/resize`, { query: { h, w } }).then(() => undefined);
  }

  execInspect(execId: string): Promise<{ ExitCode: number | null; Running: boolean; Pid?: number }> {
    return this.t.json('GET', `/exec/${enc(execId)}/json`);
  }

  // ---- networks ----
  networkList(filters?: Filters): Promise<NetworkInfo[]> {
    return this.t.json('GET', '/networks', { query: { filters: filtersOrUndefined(filters) } });
  }

  networkInspect(id: string, verbose = false): Promise<NetworkInfo> {
    return this.t.json('GET', `/networks/${enc(id)}`, { query: { verbose: verbose || undefined } });
  }

  networkCreate(body: NetworkCreateBody): Promise<{ Id: string; Warning?: string }> {
    return this.t.json('POST', '/networks/create', { body });
  }

  async networkRemove(id: string): Promise<void> {
    await this.t.buffer('DELETE', `/networks/${enc(id)}`);
  }

  async networkConnect(id: string, container: string, endpoint?: EndpointSettings): Promise<void> {
    await this.t.buffer('POST', `/networks/${enc(id)}/connect`, { body: { Container: container, ...(endpoint ? { EndpointConfig: endpoint } : {}) } });
  }

  async networkDisconnect(id: string, container: string, force = false): Promise<void> {
    await this.t.buffer('POST', `/networks/${enc(id)}/disconnect`, { body: { Container: container, Force: force } });
  }

  async networkPrune(filters?: Filters): Promise<string[]> {
    return (await this.objectPrune('networks', filters)).deleted;
  }

  // ---- volumes ----
  volumeList(filters?: Filters): Promise<VolumeListResponse> {
    return this.t.json('GET', '/volumes', { query: { filters: filtersOrUndefined(filters) } });
  }

  volumeCreate(body: VolumeCreateBody): Promise<Volume> {
    return this.t.json('POST', '/volumes/create', { body });
  }

  volumeInspect(name: string): Promise<Volume> {
    return this.t.json('GET', `/volumes/${enc(name)}`);
  }

  async volumeRemove(name: string, force = false): Promise<void> {
    await this.t.buffer('DELETE', `/volumes/${enc(name)}`, { query: { force: force || undefined } });
  }

  volumePrune(filters?: Filters): Promise<VolumePruneReport> {
    return this.t.json('POST', '/volumes/prune', { query: { filters: filtersOrUndefined(filters) } });
  }

  // ---- images ----
  imageList(opts: { all?: boolean; filters?: Filters; digests?: boolean } = {}): Promise<ImageSummary[]> {
    return this.t.json('GET', '/images/json', { query: { all: opts.all || undefined, filters: filtersOrUndefined(opts.filters), digests: opts.digests || undefined } });
  }

  imageInspect(name: string): Promise<Record<string, unknown>> {
    return this.t.json('GET', `/images/${name}/json`);
  }

  async imageTag(source: string, repo: string, tag?: string): Promise<void> {
    await this.t.buffer('POST', `/images/${source}/tag`, { query: { repo, tag: tag || undefined } });
  }

  imageRemove(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.t.json('DELETE', `/images/${name}`, { query: { force: opts.force || undefined, noprune: opts.noprune || undefined } });
  }

  /** POST /images/create?fromSrc=…: import a tarball (stream body, or a URL in fromSrc). */
  async imageImport(
    source: Readable | undefined,
    opts: { fromSrc: string; repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string },
  ): Promise<AsyncGenerator<JsonMessage>> {
    const query: Query = { fromSrc: opts.fromSrc, repo: opts.repo, tag: opts.tag, message: opts.message, changes: opts.changes, platform: opts.platform };
    const r = await this.t.raw('POST', '/images/create', {
      query, body: source, headers: source ? { 'Content-Type': 'application/x-tar' } : undefined,
    });
    return jsonMessages(r.body);
  }

  imageSearch(term: string, limit?: number, filters?: Filters, registryAuth?: string): Promise<Array<{ name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }>> {
    return this.t.json('GET', '/images/search', { query: { term, limit, filters: filtersOrUndefined(filters) }, headers: registryAuth ? { 'X-Registry-Auth': registryAuth } : {} });
  }

  /** GET /images/get: a tar of the images. */
  async imageSave(names: string[]): Promise<Readable> {
    return (await this.t.raw('GET', '/images/get', { query: { names } })).body;
  }

  /** POST /images/load: the names loaded, as the daemon reports them. */
  async imageLoad(archive: Readable): Promise<AsyncGenerator<JsonMessage>> {
    const r = await this.t.raw('POST', '/images/load', { body: archive, headers: { 'Content-Type': 'application/x-tar' } });
    return jsonMessages(r.body);
  }

  /** POST /images/{name}/push: progress messages; an empty tag pushes every tag of the repository. */
  async imagePush(name: string, tag: string, registryAuth?: string): Promise<AsyncGenerator<JsonMessage>> {
    const r = await this.t.raw('POST', `/images/${name}/push`, { query: { tag }, headers: { 'X-Registry-Auth': registryAuth ?? Buffer.from('{}').toString('base64url') } });
    return jsonMessages(r.body);
  }

  /** POST /images/create?fromImage=…: pull, as a stream of progress messages. */
  async imagePull(fromImage: string, tag?: string, platform?: string, registryAuth?: string): Promise<AsyncGenerator<JsonMessage>> {
    const r = await this.t.raw('POST', '/images/create', { query: { fromImage, tag, platform }, headers: registryAuth ? { 'X-Registry-Auth': registryAuth } : {} });
    return jsonMessages(r.body);
  }

  // ---- diff, commit, export ----
  async containerChanges(id: string): Promise<ContainerChange[]> {
    return (await this.t.json<ContainerChange[] | null>('GET', `/containers/${enc(id)}/changes`)) ?? [];
  }

  /** POST /commit: the new image's ID ("sha256:…"). */
  async containerCommit(id: string, o: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean } = {}): Promise<string> {
    const r = await this.t.json<{ Id: string }>('POST', '/commit', {
      query: { container: id, repo: o.repo, tag: o.tag, comment: o.comment, author: o.author, changes: o.changes, pause: o.pause === false ? false : undefined },
    });
    return r.Id;
  }

  imageHistory(name: string): Promise<Array<{ Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }>> {
    return this.t.json('GET', `/images/${name}/history`);
  }

  /** GET /containers/{id}/export: a tar of its filesystem. */
  async containerExport(id: string): Promise<Readable> {
    return (await this.t.raw('GET', `/containers/${enc(id)}/export`)).body;
  }

  // ---- build ----
  /** POST /build: the context (a tar, maybe compressed) streamed in; the build's messages once it is under way. */
  async imageBuild(context: Readable, query: Query, registryConfig: string): Promise<AsyncGenerator<JsonMessage>> {
    const r = await this.t.raw('POST', '/build', { query, body: context, headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': registryConfig } });
    return jsonMessages(r.body);
  }

  /** POST /build/prune: the IDs of the cache records removed and the space freed. */
  async buildPrune(o: { all?: boolean; filters?: Filters; keepStorage?: number } = {}): Promise<{ deleted: string[]; reclaimed: number }> {
    const r = await this.t.json<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/build/prune', {
      query: { all: o.all || undefined, filters: filtersOrUndefined(o.filters), 'keep-storage': o.keepStorage || undefined },
    });
    return { deleted: r?.CachesDeleted ?? [], reclaimed: Number(r?.SpaceReclaimed ?? 0) };
  }
}
