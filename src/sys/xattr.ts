// Reading extended attributes without following symlinks (llistxattr/lgetxattr through koffi), for the
// layer tars of commit and export: file capabilities and ACLs must survive, overlay's own markers are read.
import { libcHandle } from './libc.js';

interface XattrCalls {
  llistxattr(path: Buffer, list: Buffer | null, size: number): number;
  lgetxattr(path: Buffer, name: string, value: Buffer | null, size: number): number;
  errno(): number;
}

let calls: XattrCalls | undefined;

function load(): XattrCalls {
  if (calls) return calls;
  const { koffi, lib } = libcHandle();
  calls = {
    // paths as NUL-terminated bytes: file names need not be UTF-8
    llistxattr: lib.func('long llistxattr(const void *path, void *list, size_t size)'),
    lgetxattr: lib.func('long lgetxattr(const void *path, const char *name, void *value, size_t size)'),
    errno: () => koffi.errno() as number,
  };
  return calls;
}

const ENODATA = 61;
const ENOTSUP = 95;
const ERANGE = 34;
const ENOENT = 2;

const cPath = (p: string | Buffer): Buffer => Buffer.concat([typeof p === 'string' ? Buffer.from(p) : p, Buffer.alloc(1)]);

/** Sizes are asked first; a value that grows in between (ERANGE) is asked again. */
function sized(call: (buf: Buffer | null, size: number) => number, what: string): Buffer | undefined {
  const c = load();
  for (let attempt = 0; attempt < 4; attempt++) {
    const n = call(null, 0);
    if (n < 0) {
      const e = c.errno();
      if (e === ENODATA || e === ENOTSUP || e === ENOENT) return undefined;
      throw new Error(`${what}: errno ${e}`);
    }
    if (n === 0) return Buffer.alloc(0);
    const buf = Buffer.alloc(n);
    const got = call(buf, n);
    if (got >= 0) return buf.subarray(0, got);
    const e = c.errno();
    if (e === ENODATA || e === ENOTSUP || e === ENOENT) return undefined;
    if (e !== ERANGE) throw new Error(`${what}: errno ${e}`);
  }
  throw new Error(`${what}: value keeps changing size`);
}

/** Names of the extended attributes of `path` itself (never a symlink's target). */
export function listXattrs(path: string | Buffer): string[] {
  const p = cPath(path);
  const buf = sized((b, n) => load().llistxattr(p, b, n), `llistxattr ${path.toString()}`);
  if (!buf || buf.length === 0) return [];
  return buf.toString('latin1').split('\0').filter(Boolean).map((n) => Buffer.from(n, 'latin1').toString('utf8'));
}

/** One attribute's raw value, or undefined when absent or unsupported. */
export function getXattr(path: string | Buffer, name: string): Buffer | undefined {
  const p = cPath(path);
  return sized((b, n) => load().lgetxattr(p, name, b, n), `lgetxattr ${path.toString()} ${name}`);
}

/** All attributes but overlayfs' private ones (trusted.overlay.*), which mean nothing outside this mount. */
export function portableXattrs(path: string | Buffer): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const name of listXattrs(path)) {
    if (name.startsWith('trusted.overlay.')) continue;
    const v = getXattr(path, name);
    if (v) out.push([name, v]);
  }
  return out;
}

/** overlayfs marks a directory that hides the lower layers' contents with trusted.overlay.opaque=y. */
export function isOpaqueDir(path: string | Buffer): boolean {
  const v = getXattr(path, 'trusted.overlay.opaque');
  return !!v && v.length === 1 && v[0] === 0x79;
}
