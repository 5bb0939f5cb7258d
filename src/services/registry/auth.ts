// Registry credentials and challenges: docker's X-Registry-Auth header, WWW-Authenticate parsing, and the
// bearer-token exchange of the distribution spec (Docker Hub style).
import { badRequest } from '../../util/errors.js';

export interface Credentials { username?: string; password?: string; identitytoken?: string; registrytoken?: string; serveraddress?: string }

/** X-Registry-Auth: base64url (or plain base64) JSON; empty or "{}" means anonymous. */
export function decodeRegistryAuth(header: string | undefined): Credentials | undefined {
  if (!header || header.trim() === '') return undefined;
  let json: string;
  try {
    json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  } catch {
    throw badRequest('invalid X-Registry-Auth header: not base64');
  }
  let c: Credentials;
  try {
    c = JSON.parse(json) as Credentials;
  } catch {
    throw badRequest('invalid X-Registry-Auth header: not JSON');
  }
  if (!c || typeof c !== 'object') return undefined;
  if (!c.username && !c.password && !c.identitytoken && !c.registrytoken) return undefined;
  return c;
}

export interface Challenge { scheme: string; params: Record<string, string> }

/** `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"` → scheme and params. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1].toLowerCase(), params };
}

export function basicHeader(c: Credentials): string | undefined {
  if (!c.username && !c.password) return undefined;
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}
