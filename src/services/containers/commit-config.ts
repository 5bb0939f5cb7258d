// The image config a commit writes, as docker makes it: the container's config (or the one the request
// sent, completed from the container's), the --change instructions applied, the parent's history plus one
// entry, and `container`/`container_config` naming where it came from.
import { applyChanges } from '../images/changes.js';
import type { HistoryEntry, Image, ImageConfigDoc } from '../images/types.js';
import type { ContainerConfig, ContainerRecord } from './types.js';

export interface CommitMeta {
  author?: string;
  comment?: string;
  changes?: string[];
  /** The request body: fields that replace the container's (empty: the container's config as it is). */
  config?: ContainerConfig | null;
  /** Take `config` as it is, without filling its empty fields from the container's (the builder's commits). */
  exactConfig?: boolean;
  /** The history entry's created_by (default: the container's command). */
  createdBy?: string;
}

const isEmpty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' ? Object.keys(v as object).length === 0 : v === '');

/** docker's merge: what the request left empty comes from the container's config. */
export function mergeFromContainer(user: ContainerConfig, ctr: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = { ...user };
  if (!out.User) out.User = ctr.User;
  out.ExposedPorts = isEmpty(out.ExposedPorts) ? ctr.ExposedPorts : { ...(ctr.ExposedPorts ?? {}), ...out.ExposedPorts };
  if (isEmpty(out.Env)) out.Env = ctr.Env;
  else {
    const keys = new Set(out.Env!.map((e) => e.split('=', 1)[0]));
    out.Env = [...out.Env!, ...(ctr.Env ?? []).filter((e) => !keys.has(e.split('=', 1)[0]))];
  }
  out.Labels = { ...(ctr.Labels ?? {}), ...(out.Labels ?? {}) };
  if (isEmpty(out.Entrypoint)) {
    if (isEmpty(out.Cmd)) out.Cmd = ctr.Cmd;
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = ctr.Entrypoint;
  }
  if (ctr.Healthcheck) {
    const h = out.Healthcheck;
    out.Healthcheck = !h ? ctr.Healthcheck : {
      Test: h.Test?.length ? h.Test : ctr.Healthcheck.Test,
      Interval: h.Interval || ctr.Healthcheck.Interval,
      Timeout: h.Timeout || ctr.Healthcheck.Timeout,
      StartPeriod: h.StartPeriod || ctr.Healthcheck.StartPeriod,
      StartInterval: h.StartInterval || ctr.Healthcheck.StartInterval,
      Retries: h.Retries || ctr.Healthcheck.Retries,
    };
  }
  if (!out.WorkingDir) out.WorkingDir = ctr.WorkingDir;
  out.Volumes = isEmpty(out.Volumes) ? ctr.Volumes : { ...out.Volumes, ...(ctr.Volumes ?? {}) };
  if (!out.StopSignal) out.StopSignal = ctr.StopSignal;
  return out;
}

/** The new image's run config: the request's (or the container's) config with the changes applied. */
export function commitRunConfig(rec: ContainerRecord, meta: CommitMeta): ContainerConfig {
  if (meta.exactConfig && meta.config) return structuredClone(meta.config);
  const given = meta.config && !isEmpty(meta.config) ? meta.config : undefined;
  const base = structuredClone(given ?? rec.Config);
  const changed = applyChanges(base, meta.changes ?? []) as ContainerConfig;
  return given ? mergeFromContainer(changed, rec.Config) : changed;
}

/** The config document of the committed image; `diffId` is undefined when the container changed nothing. */
export function commitConfigDoc(rec: ContainerRecord, parent: Image, runConfig: ContainerConfig, meta: CommitMeta, diffId: string | undefined, now = new Date()): ImageConfigDoc & Record<string, unknown> {
  const p = parent.config as ImageConfigDoc & { variant?: string };
  const created = now.toISOString();
  const entry: HistoryEntry = {
    created,
    // docker writes the container's command, arguments joined by spaces
    created_by: meta.createdBy ?? (rec.Config.Cmd ?? []).join(' '),
    ...(meta.author ? { author: meta.author } : {}),
    ...(meta.comment ? { comment: meta.comment } : {}),
    ...(diffId ? {} : { empty_layer: true }),
  };
  return {
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    os: p.os,
    created,
    ...(meta.author ? { author: meta.author } : {}),
    // docker keeps the message in the history only; inspect's Comment shows it here too
    ...(meta.comment ? { comment: meta.comment } : {}),
    config: runConfig,
    container: rec.Id,
    container_config: rec.Config,
    rootfs: { type: 'layers', diff_ids: [...p.rootfs.diff_ids, ...(diffId ? [diffId] : [])] },
    history: [...(p.history ?? []), entry],
  };
}
