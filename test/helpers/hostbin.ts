// An image rootfs made of the busybox one plus some of the host's dynamically linked programs (iperf3, …) with
// every library `ldd` lists, at the same paths: tools busybox lacks, without any registry.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr ?? '').trim()}`);
  return r.stdout;
}

/** Write `out`: `busyboxTar` with each of `programs` (names on the host's PATH) put at /usr/bin, plus their libraries. */
export function rootfsWithHostPrograms(busyboxTar: string, programs: string[], work: string, out: string): { libraries: number } {
  const root = join(work, `rootfs-${process.pid}-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  try {
    must('tar', ['-xf', busyboxTar, '-C', root]);
    const libs = new Set<string>();
    for (const name of programs) {
      const path = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
      if (!path) throw new Error(`${name} is not installed on the host`);
      for (const l of must('ldd', [path]).split('\n')) { const m = /(\/\S+) \(0x/.exec(l); if (m) libs.add(m[1]); }
      mkdirSync(join(root, 'usr/bin'), { recursive: true });
      must('cp', ['-L', path, join(root, 'usr/bin', name)]);
    }
    for (const p of libs) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      must('cp', ['-L', p, join(root, p)]);
    }
    must('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', out, '.']);
    return { libraries: libs.size };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
