// Walking a directory tree whose contents someone else controls (a container's upper dir or merged rootfs)
// without ever following a symlink onto the host. A directory is opened O_NOFOLLOW|O_DIRECTORY and its
// children are reached as /proc/self/fd/<fd>/<name>: the kernel resolves that prefix to the very directory
// we opened, so swapping a directory for a symlink between our lstat and our open leads nowhere
// (the cp/export race of CVE-2018-15664). Names are bytes: Linux file names need not be UTF-8.
import { constants, promises as fs, type BigIntStats } from 'node:fs';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a regular file swapped for a FIFO after our lstat must not block the open
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const compareBytes = (a: Buffer, b: Buffer) => Buffer.compare(a, b);

/** The entry is no longer what was looked at (replaced between lstat and open). */
export class ReplacedError extends Error {}

export class SafeDir {
  private readonly prefix: Buffer;

  private constructor(private readonly handle: fs.FileHandle) {
    this.prefix = Buffer.from(`/proc/self/fd/${handle.fd}/`);
  }

  /** Opens a directory we name ourselves (its path is trusted; only what lies below it is not). */
  static async open(path: string): Promise<SafeDir> {
    return new SafeDir(await fs.open(path, DIR_FLAGS));
  }

  /** A path to the child `name` that cannot be redirected (lstat, readlink and xattr calls use it as is). */
  child(name: Buffer): Buffer {
    return Buffer.concat([this.prefix, name]);
  }

  /** The names in this directory, in byte order (what docker's walk yields, so tars are reproducible). */
  async names(): Promise<Buffer[]> {
    const names = await fs.readdir(this.prefix, { encoding: 'buffer' });
    return names.sort(compareBytes);
  }

  async lstat(name: Buffer): Promise<BigIntStats> {
    return fs.lstat(this.child(name), { bigint: true });
  }

  async readlink(name: Buffer): Promise<Buffer> {
    return fs.readlink(this.child(name), { encoding: 'buffer' });
  }

  /** Opens a subdirectory; fails (ENOTDIR/ELOOP) if it is no longer a directory. */
  async openDir(name: Buffer): Promise<SafeDir> {
    return new SafeDir(await fs.open(this.child(name), DIR_FLAGS));
  }

  /** Opens a regular file for reading; fails unless it is still the inode `expect` describes. */
  async openFile(name: Buffer, expect: BigIntStats): Promise<fs.FileHandle> {
    const fh = await fs.open(this.child(name), FILE_FLAGS);
    const st = await fh.stat({ bigint: true });
    if (!st.isFile() || st.ino !== expect.ino || st.dev !== expect.dev) {
      await fh.close();
      throw new ReplacedError(`${name.toString()} was replaced while it was being read`);
    }
    return fh;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
