// Who is asking, and may they. With an htpasswd file every request needs HTTP Basic credentials or a bearer
// token from GET /token (the token flow docker clients expect, so they ask with the scopes they need). Every
// user in the file may do everything; tokens carry the scopes asked for.
import type { Htpasswd } from './htpasswd.js';
import { validName } from './names.js';
import { covers, formatScope, signToken, verifyToken, type Access } from './token.js';

export const SERVICE = 'tug-registry';
const TOKEN_TTL = 300;

export interface Identity { user: string; grants: Access[] | 'all' }

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  const i = plain.indexOf(':');
  return i < 0 ? undefined : { user: plain.slice(0, i), password: plain.slice(i + 1) };
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** The grantable part of what a client asks for: known resource types and actions, valid names. */
function grantable(scopes: Access[]): Access[] {
  const out: Access[] = [];
  for (const s of scopes) {
    const known = s.type === 'repository' ? ['pull', 'push', 'delete', '*'] : s.type === 'registry' && s.name === 'catalog' ? ['*'] : [];
    if (s.type === 'repository' && !validName(s.name)) continue;
    const actions = s.actions.filter((a) => known.includes(a));
    if (actions.length) out.push({ type: s.type, name: s.name, actions });
  }
  return out;
}

export class Authenticator {
  constructor(private readonly users: Htpasswd, private readonly secret: Buffer, readonly realm: string) {}

  /** The caller, from Basic credentials or a valid bearer token; undefined when neither checks out. */
  async identify(authorization: string | undefined): Promise<Identity | undefined> {
    const bearer = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (bearer) {
      const claims = verifyToken(this.secret, bearer[1], SERVICE);
      return claims ? { user: claims.sub, grants: claims.access } : undefined;
    }
    const basic = parseBasic(authorization);
    if (basic && await this.users.check(basic.user, basic.password)) return { user: basic.user, grants: 'all' };
    return undefined;
  }

  allows(id: Identity, needed: Access[]): boolean {
    return id.grants === 'all' || covers(id.grants, needed);
  }

  /** The challenge of a 401 on the API: where to get a token, and for what. */
  challenge(tokenRealm: string, needed: Access[], insufficient = false): string {
    const parts = [`Bearer realm=${quote(tokenRealm)}`, `service=${quote(SERVICE)}`];
    if (needed.length) parts.push(`scope=${quote(needed.map(formatScope).join(' '))}`);
    if (insufficient) parts.push('error="insufficient_scope"');
    return parts.join(',');
  }

  basicChallenge(): string {
    return `Basic realm=${quote(this.realm)}`;
  }

  /** GET /token: a token for a user whose Basic credentials check out, or undefined. */
  async issue(authorization: string | undefined, scopes: Access[], now = Math.floor(Date.now() / 1000)): Promise<{ token: string; access_token: string; expires_in: number; issued_at: string } | undefined> {
    const basic = parseBasic(authorization);
    if (!basic || !await this.users.check(basic.user, basic.password)) return undefined;
    const token = signToken(this.secret, { sub: basic.user, aud: SERVICE, access: grantable(scopes), iat: now, exp: now + TOKEN_TTL });
    return { token, access_token: token, expires_in: TOKEN_TTL, issued_at: new Date(now * 1000).toISOString() };
  }
}
