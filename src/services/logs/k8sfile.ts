// Container logs as conmon writes them (k8s-file: "<RFC3339Nano> <stdout|stderr> <P|F> <text>"),
// read with docker's `logs` semantics across rotated files, and followed across rotation.
import { addReader, removeReader, withLogLock } from './readers.js';
import { promises as fs, type Stats } from 'node:fs';
import { watch, type FSWatcher } from 'node:fs';
import { dirname, basename } from 'node:path';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** Nanosecond-precision timestamp text as written, and its value in ms for filtering. */
  time: string;
  ms: number;
  /** Text including the trailing newline for full lines; partial lines carry none. */
  data: Buffer;
}

export interface LogReadOptions {
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (fractional); 0 = no bound. */
  since: number;
  until: number;
  /** Number of lines from the end; -1 = all. */
  tail: number;
}

export function parseLine(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s3 < 0) return undefined;
  const time = line.subarray(0, s1).toString();
  const stream = line.subarray(s1 + 1, s2).toString();
  const tag = line.subarray(s2 + 1, s3).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const text = line.subarray(s3 + 1);
  const data = tag.startsWith('P') ? Buffer.from(text) : Buffer.concat([text, Buffer.from('\n')]);
  return { stream, time, ms: Date.parse(time), data };
}

/** Rotated files oldest first, then the live one. */
export async function logFiles(path: string, maxFiles = 10): Promise<string[]> {
  const out: string[] = [];
  for (let i = maxFiles; i >= 1; i--) {
    try { await fs.access(`${path}.${i}`); out.push(`${path}.${i}`); } catch { /* absent */ }
  }
  out.push(path);
  return out;
}

function wanted(e: LogEntry, o: LogReadOptions): boolean {
  if (e.stream === 'stdout' ? !o.stdout : !o.stderr) return false;
  if (o.since > 0 && e.ms < o.since * 1000) return false;
  if (o.until > 0 && e.ms > o.until * 1000) return false;
  return true;
}

function splitLines(buf: Buffer): { lines: Buffer[]; rest: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

/** Everything already written, filtered; `tail` keeps the last N lines. */
export async function readExisting(path: string, o: LogReadOptions): Promise<{ entries: LogEntry[]; position: { ino: number; offset: number } }> {
  const entries: LogEntry[] = [];
  let position = { ino: 0, offset: 0 };
  for (const f of await logFiles(path)) {
    let buf: Buffer;
    let st: Stats;
    try {
      const fh = await fs.open(f, 'r');
      try { st = await fh.stat(); buf = await fh.readFile(); } finally { await fh.close(); }
    } catch { continue; }
    const { lines } = splitLines(buf);
    for (const l of lines) {
      const e = parseLine(l);
      if (e && wanted(e, o)) entries.push(e);
    }
    if (f === path) position = { ino: st.ino, offset: buf.length - splitLines(buf).rest.length };
  }
  if (o.tail >= 0) return { entries: o.tail === 0 ? [] : entries.slice(-o.tail), position };
  return { entries, position };
}

/**
 * Follows a log from a position: new lines are delivered as they are written; when the file is
 * rotated (its inode changes) the old one is drained and the new one read from its start.
 * `done()` tells when the writer has finished (container exited); the follower then drains and stops.
 */
export class LogFollower {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private busy = false;
  private again = false;
  private rest = Buffer.alloc(0);
  private finishing = false;

  constructor(
    private readonly path: string,
    private position: { ino: number; offset: number },
    private readonly o: LogReadOptions,
    private readonly onEntry: (e: LogEntry) => boolean | void,
    private readonly onEnd: () => void,
  ) {}

  readingIno(): number { return this.position.ino; }

  start(): void {
    addReader(this.path, this);
    try {
      this.watcher = watch(dirname(this.path), (_ev, name) => { if (!name || String(name).startsWith(basename(this.path))) this.kick(); });
      this.watcher.on('error', () => undefined);
    } catch { /* polling still works */ }
    this.timer = setInterval(() => this.kick(), 250);
    this.kick();
  }

  /** The writer is done: read what is left, then end. */
  finish(): void {
    this.finishing = true;
    this.kick();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    removeReader(this.path, this);
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.busy) { this.again = true; return; }
    this.busy = true;
    void this.pump().finally(() => {
      this.busy = false;
      if (this.again) { this.again = false; this.kick(); }
    });
  }

  private async pump(): Promise<void> {
    // only a read that began after the writer was done may end the follow: one already under way when finish()
    // came may have missed the last lines, and the pump that finish() queued reads them
    const final = this.finishing;
    let st: Stats | undefined;
    try { st = await fs.stat(this.path); } catch { st = undefined; }
    if (st && this.position.ino !== 0 && st.ino !== this.position.ino) {
      // rotated, maybe more than once: finish our file, then each newer rotated one in order (rotation keeps
      // them while we read), then the live one
      // (a file renamed between the listing and the open is found again under its new name)
      for (let attempt = 0; attempt < 5; attempt++) {
        const chain = await this.rotatedOldestFirst();
        const at = chain.findIndex((f) => f.ino === this.position.ino);
        // our file gone from the chain (replaced by the writer's own size cap): the rotated files are older
        if (at < 0) break;
        let moved = !(await this.readFrom(chain[at].file, this.position.ino));
        for (const f of chain.slice(at + 1)) {
          if (moved || this.stopped) break;
          this.position = { ino: f.ino, offset: 0 };
          this.rest = Buffer.alloc(0);
          moved = !(await this.readFrom(f.file, f.ino));
        }
        if (!moved) break;
      }
      if (this.stopped) return;
      this.position = { ino: st.ino, offset: 0 };
      this.rest = Buffer.alloc(0);
    }
    if (st) {
      if (this.position.ino === 0) this.position.ino = st.ino;
      await this.readFrom(this.path, st.ino);
    }
    if (final && !this.stopped) {
      this.stop();
      this.onEnd();
    }
  }

  /** path.N … path.1 with their inodes. */
  private rotatedOldestFirst(): Promise<Array<{ file: string; ino: number }>> {
    return withLogLock(this.path, async () => {
      const out: Array<{ file: string; ino: number }> = [];
      for (let i = 1; ; i++) {
        const file = `${this.path}.${i}`;
        const s = await fs.stat(file).catch(() => undefined);
        if (!s) break;
        out.push({ file, ino: s.ino });
      }
      return out.reverse();
    });
  }

  /** Read `file` to its end if it is still inode `ino`; false when the name now holds another file. */
  private async readFrom(file: string, ino: number): Promise<boolean> {
    let fh;
    try { fh = await fs.open(file, 'r'); } catch { return false; }
    try {
      const st = await fh.stat();
      if (st.ino !== ino) return false;
      if (st.size < this.position.offset) this.position.offset = 0; // truncated
      while (!this.stopped && this.position.offset < st.size) {
        const len = Math.min(st.size - this.position.offset, 1 << 20);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, this.position.offset);
        if (bytesRead <= 0) break;
        this.position.offset += bytesRead;
        const { lines, rest } = splitLines(Buffer.concat([this.rest, buf.subarray(0, bytesRead)]));
        this.rest = Buffer.from(rest);
        for (const l of lines) {
          const e = parseLine(l);
          if (!e || !wanted(e, this.o)) continue;
          if (this.o.until > 0 && e.ms > this.o.until * 1000) { this.stop(); this.onEnd(); return true; }
          if (this.onEntry(e) === false) { this.stop(); return true; }
        }
      }
      return true;
    } finally {
      await fh.close();
    }
  }
}
