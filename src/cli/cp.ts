// tug cp: docker's `cp` between a container and the local filesystem (or a tar on stdin/stdout), over the
// archive API. Which side is which, and how names are rebased, follow docker's CLI (cp-paths.ts); the host
// side packs and unpacks through descriptors (cp-local.ts), so an archive never writes outside its directory.
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { clientFor } from './connect.js';
import type { EngineClient } from '../client/api.js';
import { humanSize } from './format.js';
import { isDeviceMode, isDirMode, isIrregularMode, isSymlinkMode, type PathStat } from '../util/pathstat.js';
import { copyInfoDestinationPath, copyInfoSourcePath, extractLocal, packLocal, resolveLocalPath, validateOutputPath } from './cp-local.js';
import { CopyError, goClean, nameRebaser, prepareArchiveCopy, rebaseForLink, splitCpArg, splitPathDirEntry, type CopyInfo } from './cp-paths.js';
import { err } from './output.js';

interface CpOptions { followLink?: boolean; archive?: boolean; quiet?: boolean }

interface CpConfig { container: string; src: string; dst: string; followLink: boolean; archive: boolean; quiet: boolean }

/** Counts the archive's bytes on their way through (docker reports those). */
function counter(): Transform & { bytes: number } {
  const t = new Transform({ transform(chunk: Buffer, _enc, cb) { t.bytes += chunk.length; cb(null, chunk); } }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

function summary(bytes: number, dest: string): void {
  err(`Successfully copied ${humanSize(bytes)} to ${dest}\n`);
}

export async function cp(cmd: Command, source: string, destination: string): Promise<void> {
  if (source === '') throw new CopyError('source can not be empty');
  if (destination === '') throw new CopyError('destination can not be empty');
  const o = cmd.opts() as CpOptions;
  const from = splitCpArg(source);
  const to = splitCpArg(destination);
  if (from.container !== undefined && to.container !== undefined) throw new CopyError('copying between containers is not supported');
  if (from.container === undefined && to.container === undefined) throw new CopyError('must specify at least one container source');
  // as docker: progress is for terminals; -q or --quiet=false decide otherwise
  const quiet = o.quiet ?? !process.stdout.isTTY;
  const client = clientFor(cmd);
  const cfg = { src: from.path, dst: to.path, followLink: !!o.followLink, archive: !!o.archive, quiet };
  if (from.container !== undefined) await copyFromContainer(client, { ...cfg, container: from.container });
  else await copyToContainer(client, { ...cfg, container: to.container as string });
}

async function copyFromContainer(client: EngineClient, c: CpConfig): Promise<void> {
  let dst = c.dst;
  if (dst !== '-') {
    dst = resolveLocalPath(dst);
    validateOutputPath(dst);
  }
  let src = c.src;
  let rebaseName = '';
  if (c.followLink) {
    // -L: copy what the link points to, under the link's name
    const st = await client.containerStatPath(c.container, src).catch(() => undefined);
    if (st && isSymlinkMode(st.mode)) {
      const target = st.linkTarget.startsWith('/') ? st.linkTarget : goClean(`${splitPathDirEntry(src).dir}/${st.linkTarget}`);
      ({ path: src, rebaseName } = rebaseForLink(src, target));
    }
  }
  const { stat, body } = await client.containerArchive(c.container, src);
  if (dst === '-') {
    // a reader that stops early (`| head`) ends the copy quietly
    await pipeline(body, process.stdout).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
    return;
  }
  const srcInfo: CopyInfo = { path: src, exists: true, isDir: isDirMode(stat.mode), rebaseName };
  const dstInfo = copyInfoDestinationPath(dst);
  let prep: ReturnType<typeof prepareArchiveCopy>;
  try { prep = prepareArchiveCopy(srcInfo, dstInfo); } catch (e) { body.destroy(); throw e; }
  // the daemon names the top entry after the path asked for; -L's rebasing first, then the destination's
  const first = rebaseName ? nameRebaser(splitPathDirEntry(src).base, rebaseName) : (n: string) => n;
  const second = prep.rebase ? nameRebaser(prep.rebase.from, prep.rebase.to) : (n: string) => n;
  const count = counter();
  body.on('error', (e) => count.destroy(e));
  await extractLocal(body.pipe(count), prep.dstDir, (n) => second(first(n)), c.archive);
  if (!c.quiet) summary(count.bytes, dst);
}

function checkDestinationMode(c: CpConfig, st: PathStat): void {
  const what = isDeviceMode(st.mode) ? 'got a device' : isIrregularMode(st.mode) ? 'got an irregular file' : '';
  if (what) throw new CopyError(`destination "${c.container}:${c.dst}" must be a directory or a regular file: ${what}`);
}

async function copyToContainer(client: EngineClient, c: CpConfig): Promise<void> {
  const src = c.src === '-' ? '-' : resolveLocalPath(c.src);
  // what the destination is decides where the archive goes and how its entries are named
  const dstInfo: CopyInfo = { path: c.dst, exists: false, isDir: false };
  let st = await client.containerStatPath(c.container, c.dst).catch(() => undefined);
  if (st && isSymlinkMode(st.mode)) {
    dstInfo.path = st.linkTarget.startsWith('/') ? st.linkTarget : goClean(`${splitPathDirEntry(c.dst).dir}/${st.linkTarget}`);
    st = await client.containerStatPath(c.container, dstInfo.path).catch(() => undefined);
  }
  if (st) {
    checkDestinationMode(c, st);
    dstInfo.exists = true;
    dstInfo.isDir = isDirMode(st.mode);
  }
  if (src === '-') {
    if (!dstInfo.isDir) throw new CopyError(`destination "${c.container}:${c.dst}" must be a directory`);
    await client.containerPutArchive(c.container, dstInfo.path, process.stdin, { noOverwriteDirNonDir: true, copyUIDGID: c.archive });
    return;
  }
  const srcInfo = copyInfoSourcePath(src, c.followLink);
  const { dstDir, rebase } = prepareArchiveCopy(srcInfo, dstInfo);
  const top = srcInfo.rebaseName || splitPathDirEntry(srcInfo.path).base;
  const name = rebase ? nameRebaser(rebase.from, rebase.to)(top) : top;
  const tar = new PassThrough({ highWaterMark: 1 << 20 });
  const count = counter();
  const packing = packLocal(srcInfo, name, tar, c.archive);
  try {
    await client.containerPutArchive(c.container, dstDir, tar.pipe(count) as Readable, { noOverwriteDirNonDir: true, copyUIDGID: c.archive });
  } catch (e) {
    // the daemon refused midway: stop packing
    tar.destroy();
    await packing.catch(() => undefined);
    throw e;
  }
  await packing;
  if (!c.quiet) summary(count.bytes, `${c.container}:${dstInfo.path}`);
}
