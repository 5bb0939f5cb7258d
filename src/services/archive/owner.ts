// docker cp -a (copyUIDGID): what is copied in becomes the container user's, looked up in the container's own
// /etc/passwd and /etc/group (read through the in-root resolver, never by a host path), with docker's rules:
// a uid without a passwd entry gets gid 0, an empty part means root.
import type { InRoot } from '../../sys/inroot.js';
import { badRequest } from '../../util/errors.js';

function table(root: InRoot, file: string): string[][] {
  const text = root.readFile(file)?.toString('utf8') ?? '';
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

const numeric = (s: string) => /^\d+$/.test(s) && Number(s) <= 2 ** 31 - 1;

export function containerOwner(root: InRoot, user: string): { uid: number; gid: number } {
  const [userPart, groupPart = ''] = user.split(':', 2);
  let uid = 0;
  let gid = 0;
  if (userPart) {
    const passwd = table(root, '/etc/passwd');
    const row = passwd.find((r) => (numeric(userPart) ? r[2] === userPart : r[0] === userPart));
    if (row) { uid = Number(row[2]); gid = Number(row[3]); } else if (numeric(userPart)) uid = Number(userPart);
    else throw badRequest(`failed to look up user "${userPart}" in container: no matching entries in passwd file`);
  }
  if (groupPart) {
    if (numeric(groupPart)) gid = Number(groupPart);
    else {
      const row = table(root, '/etc/group').find((r) => r[0] === groupPart);
      if (!row) throw badRequest(`failed to look up group "${groupPart}" in container: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid };
}
