// A real Debian root file system for tests: `debootstrap --variant=minbase bookworm`, made once per machine and
// kept as a tar under /var/cache/tugboat-test (built in a temporary directory, then renamed into place).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const CACHE = '/var/cache/tugboat-test';
const TAR = join(CACHE, 'bookworm-minbase.tar');

export function debianRootfsTar(): string {
  if (existsSync(TAR)) return TAR;
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, 'build-'));
  try {
    const root = join(work, 'rootfs');
    const d = spawnSync('debootstrap', ['--variant=minbase', 'bookworm', root, 'http://deb.debian.org/debian'], { encoding: 'utf8', timeout: 600_000 });
    if (d.status !== 0) throw new Error(`debootstrap failed: ${(d.stderr || d.stdout).trim().split('\n').slice(-5).join('\n')}`);
    const t = spawnSync('tar', ['-C', root, '--numeric-owner', '-cf', join(work, 'rootfs.tar'), '.'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`tar failed: ${t.stderr}`);
    renameSync(join(work, 'rootfs.tar'), TAR);
    return TAR;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
