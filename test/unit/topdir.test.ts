// markTopDirectory: ext4's `chattr +T`, set where the filesystem has it, a no-op elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { markTopDirectory } from '../../src/sys/libc.ts';

const fsType = (path: string) => execFileSync('stat', ['-f', '-c', '%T', path]).toString().trim();

test('a directory on ext2/3/4 gets the T attribute (twice is fine); tmpfs and a missing path answer false', () => {
  const dirs = ['/var/tmp', '/dev/shm'].map((base) => mkdtempSync(join(base, 'topdir-')));
  try {
    for (const dir of dirs) {
      const ext = fsType(dir).startsWith('ext');
      assert.equal(markTopDirectory(dir), ext, `${dir} on ${fsType(dir)}`);
      if (!ext) continue;
      assert.match(execFileSync('lsattr', ['-d', dir]).toString().split(' ')[0], /T/);
      assert.equal(markTopDirectory(dir), true);
    }
    assert.equal(markTopDirectory(join(dirs[0], 'missing')), false);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
