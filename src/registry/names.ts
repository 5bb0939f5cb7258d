// Names as the distribution spec writes them in URLs: repositories, tags, digests. Anything that becomes a
// path on disk is checked here first, so no name can climb out of the storage root.

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** The algorithms accepted, with their hex lengths; registered algorithms use lowercase hex only. */
const ALGORITHMS: Record<string, number> = { sha256: 64, sha512: 128 };
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export type Algorithm = 'sha256' | 'sha512';
export interface Digest { algorithm: Algorithm; hex: string }

/** A repository name: lowercase path components, under 256 characters in all. */
export function validName(name: string): boolean {
  return name.length < 256 && NAME.test(name);
}

export function validTag(tag: string): boolean {
  return TAG.test(tag);
}

/** "sha256:<64 hex>" or "sha512:<128 hex>"; undefined for anything else, including unsupported algorithms. */
export function parseDigest(s: string): Digest | undefined {
  const i = s.indexOf(':');
  const algorithm = s.slice(0, i);
  const hex = s.slice(i + 1);
  if (i < 0 || !(algorithm in ALGORITHMS) || hex.length !== ALGORITHMS[algorithm] || !/^[a-f0-9]+$/.test(hex)) return undefined;
  return { algorithm: algorithm as Algorithm, hex };
}

/** Shaped like a digest (algorithm:encoded), supported or not: such a reference is never a tag. */
export function looksLikeDigest(s: string): boolean {
  return DIGEST_GRAMMAR.test(s);
}

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/** The <reference> of a manifest URL: a tag or a supported digest. */
export function parseReference(ref: string): Reference | { invalid: 'tag' | 'digest' } {
  if (looksLikeDigest(ref)) return parseDigest(ref) ? { kind: 'digest', digest: ref } : { invalid: 'digest' };
  return validTag(ref) ? { kind: 'tag', tag: ref } : { invalid: 'tag' };
}
