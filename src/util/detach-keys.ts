// Client-side detach keys (default ctrl-p,ctrl-q) for interactive TTY sessions: the bytes of the sequence are held
// back while they might still be one; once complete, the session detaches and they are never sent.

/** Parse docker's --detach-keys syntax: "ctrl-p,ctrl-q", "ctrl-@", letters as themselves. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const k = raw.trim();
    if (k.length === 1) { out.push(k.charCodeAt(0)); continue; }
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (!m) throw new Error(`Invalid detach keys (${spec}) provided`);
    const c = m[1].toLowerCase();
    out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : c === '@' ? 0 : 27 + '[\\]^_'.indexOf(c));
  }
  return Buffer.from(out);
}

export class DetachScanner {
  private held: number[] = [];

  constructor(private readonly keys: Buffer) {}

  /** Returns what to forward now and whether the sequence was completed. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // mismatch: the held bytes were ordinary input after all
      out.push(...this.held);
      this.held = [];
      if (b === this.keys[0]) { this.held.push(b); if (this.keys.length === 1) return { forward: Buffer.from(out), detach: true }; } else out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
