// Bearer tokens of the registry's own token service: base64url(JSON claims) "." base64url(HMAC-SHA256), signed
// with a secret kept under the storage root, so tokens stay valid across restarts of the same registry.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

/** One grant: `repository:<name>:pull,push` or `registry:catalog:*`. */
export interface Access { type: string; name: string; actions: string[] }

export interface Claims { sub: string; aud: string; access: Access[]; iat: number; exp: number }

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signToken(secret: Buffer, claims: Claims): string {
  const payload = b64(JSON.stringify(claims));
  return `${payload}.${b64(createHmac('sha256', secret).update(payload).digest())}`;
}

/** The claims of a token signed with `secret` for `audience` and not expired at `now` (seconds), else undefined. */
export function verifyToken(secret: Buffer, token: string, audience: string, now = Math.floor(Date.now() / 1000)): Claims | undefined {
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined) return undefined;
  const want = createHmac('sha256', secret).update(payload).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  let claims: Claims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
  } catch {
    return undefined;
  }
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.aud !== audience || !Array.isArray(claims.access)) return undefined;
  return claims;
}

/**
 * Scopes as clients ask for them: each `scope` parameter may hold several, space-separated. The name may
 * itself contain ':' (a registry host with a port), so the type ends at the first ':' and the actions start
 * after the last.
 */
export function parseScopes(values: string[]): Access[] {
  const out: Access[] = [];
  for (const s of values.flatMap((v) => v.split(' ')).filter(Boolean)) {
    const first = s.indexOf(':');
    const last = s.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const actions = s.slice(last + 1).split(',').filter(Boolean);
    out.push({ type: s.slice(0, first), name: s.slice(first + 1, last), actions });
  }
  return out;
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

/** Whether grants cover every action needed ("*" covers all of its resource). */
export function covers(grants: Access[], needed: Access[]): boolean {
  return needed.every((n) => n.actions.every((action) =>
    grants.some((g) => g.type === n.type && g.name === n.name && (g.actions.includes(action) || g.actions.includes('*')))));
}

/** The token secret of a storage root, made on first use. */
export async function loadSecret(root: string): Promise<Buffer> {
  const file = join(root, 'token.key');
  try {
    const hex = (await fs.readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = randomBytes(32);
  await writeFileAtomic(file, `${secret.toString('hex')}\n`);
  return secret;
}
