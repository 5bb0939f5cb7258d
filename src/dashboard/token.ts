// The dashboard's login token: made once, kept in the data root (readable by root only), so that a link handed out
// stays good across daemon restarts until the file is deleted.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export async function dashboardToken(dataRoot: string): Promise<string> {
  const dir = join(dataRoot, 'dashboard');
  const path = join(dir, 'token');
  try {
    const t = (await fs.readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(t)) return t;
  } catch { /* first start */ }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  const tmp = `${path}.${process.pid}`;
  await fs.writeFile(tmp, `${token}\n`, { mode: 0o600 });
  await fs.rename(tmp, path);
  return token;
}
