// Users from an htpasswd file with bcrypt entries (`htpasswd -B`). The file is read again when it changes.
// bcrypt is slow by design, so a pair that checked out once is remembered (as a hash, not the password) until
// the file changes.
import bcrypt from 'bcryptjs';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** user → bcrypt hash; other kinds of entries (MD5, SHA1, crypt) are reported and skipped. */
export function parseHtpasswd(text: string, warn: (msg: string) => void = () => undefined): Map<string, string> {
  const users = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !BCRYPT.test(hash)) { warn(`htpasswd line ${i + 1}: not a bcrypt entry, ignored`); continue; }
    users.set(user, hash);
  }
  return users;
}

export class Htpasswd {
  private users = new Map<string, string>();
  private mtime = -1;
  private readonly verified = new Set<string>();

  constructor(private readonly path: string, private readonly warn: (msg: string) => void = () => undefined) {}

  /** Read the file (again, if it changed); fails when it cannot be read. */
  async load(): Promise<void> {
    const st = await fs.stat(this.path);
    if (st.mtimeMs === this.mtime) return;
    this.users = parseHtpasswd(await fs.readFile(this.path, 'utf8'), this.warn);
    this.mtime = st.mtimeMs;
    this.verified.clear();
  }

  async check(user: string, password: string): Promise<boolean> {
    try { await this.load(); } catch (e) { this.warn(`htpasswd: ${(e as Error).message}`); }
    const hash = this.users.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (this.verified.has(key)) return true;
    if (!await bcrypt.compare(password, hash)) return false;
    this.verified.add(key);
    return true;
  }
}
