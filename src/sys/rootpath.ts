// Resolve a path as the container would see it, with every symlink clamped inside the container
// root, so that reading e.g. /etc/passwd never escapes to the host.
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export function resolveInRoot(root: string, path: string, maxLinks = 40): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try { isLink = lstatSync(candidate).isSymbolicLink(); } catch { /* missing: keep walking lexically */ }
    if (!isLink) { resolved.push(part); continue; }
    if (++links > maxLinks) throw new Error(`too many levels of symbolic links: ${path}`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return join(root, ...resolved);
}
