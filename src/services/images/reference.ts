// Image references as docker reads them: [domain/]path[:tag][@digest]. Internally we keep docker's
// "familiar" spelling (busybox:latest, not docker.io/library/busybox:latest) because that is what
// `docker images` shows and what users type.
import { badRequest } from '../../util/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const ID64 = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

export interface Reference {
  /** Registry host[:port]; "docker.io" for Docker Hub. */
  domain: string;
  /** Repository path within the registry, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

/** The registry host a name starts with ("localhost:5000/app" → "localhost:5000"), if its first component looks like one. */
export function registryHostOf(name: string): string | undefined {
  const slash = name.indexOf('/');
  if (slash < 0) return undefined;
  const first = name.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

const invalid = (detail?: string) => badRequest(detail ? `invalid reference format: ${detail}` : 'invalid reference format');

/** Parse and normalise a reference as `docker pull` does; throws 400 "invalid reference format". */
export function parseReference(s: string): Reference {
  if (s === '' || s !== s.trim()) throw invalid();
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid();
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  // A ':' after the last '/' starts the tag; an earlier one is a registry port.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid();
  }
  if (rest === '') throw invalid();
  if (ID64.test(rest)) throw badRequest(`invalid repository name (${rest}), cannot specify 64-byte hexadecimal strings`);

  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // Docker's rule: the first component is a registry if it looks like a host (or is not lowercase).
    if (registryHostOf(rest) || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw invalid();
    }
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (path.toLowerCase() !== path) throw invalid(`repository name (${path}) must be lowercase`);
  if (!path.split('/').every((c) => PATH_COMPONENT.test(c))) throw invalid();
  if (`${domain}/${path}`.length > NAME_MAX) throw invalid(`repository name must not be more than ${NAME_MAX} characters`);
  return { domain, path, tag, digest };
}

/** "busybox", "user/app", "myreg:5000/app" — the name docker prints. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith(OFFICIAL_PREFIX) && r.path.indexOf('/', OFFICIAL_PREFIX.length) < 0 ? r.path.slice(OFFICIAL_PREFIX.length) : r.path;
}

/** "docker.io/library/busybox": what a registry client needs. */
export function fullName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The familiar string with whatever tag/digest the reference has. */
export function familiarString(r: Reference): string {
  return familiarName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

/** Adds ":latest" when the reference has neither tag nor digest (docker's TagNameOnly). */
export function withDefaultTag(r: Reference): Reference {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: DEFAULT_TAG } : r;
}

/** "busybox" -> "busybox:latest"; "x:1@sha256:…" -> "x@sha256:…" (a digest wins over a tag). */
export function normalizeRef(s: string): string {
  const r = withDefaultTag(parseReference(s));
  return r.digest !== undefined ? `${familiarName(r)}@${r.digest}` : `${familiarName(r)}:${r.tag}`;
}

/** Like parseReference but returns undefined instead of throwing. */
export function tryParseReference(s: string): Reference | undefined {
  try { return parseReference(s); } catch { return undefined; }
}

/** Alias of normalizeRef (the name the daemon wiring uses). */
export const normalizeReference = normalizeRef;
