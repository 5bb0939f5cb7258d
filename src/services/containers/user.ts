// Resolve docker's `-u name|uid[:group|gid]` (and `--group-add`) against the container's own /etc/passwd and /etc/group.
import { readFileSync } from 'node:fs';
import { resolveInRoot } from '../../sys/rootpath.js';
import { badRequest } from '../../util/errors.js';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

function readTable(root: string, file: string): string[][] {
  try {
    return readFileSync(resolveInRoot(root, file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const isNum = (s: string) => /^\d+$/.test(s);

/** `groupAdd`: the container's --group-add entries, group names or numeric IDs, added to the process's groups. */
export function resolveUser(root: string, spec: string | undefined, groupAdd: readonly string[] = []): ResolvedUser {
  const [userPart, groupPart] = (spec || '').split(':', 2);
  const passwd = readTable(root, '/etc/passwd');
  const groups = readTable(root, '/etc/group');
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = 'root';
  if (userPart) {
    const row = passwd.find((r) => (isNum(userPart) ? r[2] === userPart : r[0] === userPart));
    if (row) {
      uid = Number(row[2]); gid = Number(row[3]); home = row[5] || '/'; name = row[0];
    } else if (isNum(userPart)) {
      uid = Number(userPart);
      name = '';
    } else {
      throw badRequest(`unable to find user ${userPart}: no matching entries in passwd file`);
    }
  } else {
    const row = passwd.find((r) => r[2] === '0');
    if (row) home = row[5] || '/root';
  }
  if (groupPart) {
    const row = groups.find((r) => (isNum(groupPart) ? r[2] === groupPart : r[0] === groupPart));
    if (row) gid = Number(row[2]);
    else if (isNum(groupPart)) gid = Number(groupPart);
    else throw badRequest(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  const additionalGids = name
    ? groups.filter((r) => (r[3] ?? '').split(',').includes(name)).map((r) => Number(r[2])).filter((g) => g !== gid)
    : [];
  for (const g of groupAdd) {
    const row = groups.find((r) => r[0] === g);
    if (!row && !isNum(g)) throw badRequest(`Unable to find group ${g}: no matching entries in group file`);
    const id = row ? Number(row[2]) : Number(g);
    if (!additionalGids.includes(id)) additionalGids.push(id);
  }
  return { uid, gid, additionalGids, home };
}
