// Directory sizes kept instead of walked on every request: an idle directory is measured once and kept until told
// it changed; a live one (written by a running container) is re-measured when older than maxAge: in the background
// with the last figure answered meanwhile while that figure is recent (under 3 maxAge: a busy `ps -s` or `df`
// stays fast), or awaited when it is older (a figure from minutes ago would mislead).
import { dirSize } from './du.js';

interface Entry { bytes: number; at: number }

export class SizeCache {
  private known = new Map<string, Entry>();
  private measuring = new Map<string, Promise<number>>();

  constructor(private readonly maxAgeMs = 10_000) {}

  /** A measure under way when the directory changes is not kept. */
  invalidate(key: string): void { this.known.delete(key); this.measuring.delete(key); }

  async size(key: string, dir: string, live: boolean): Promise<number> {
    const k = this.known.get(key);
    const age = k ? Date.now() - k.at : Infinity;
    if (k && (!live || age < this.maxAgeMs)) return k.bytes;
    const pending = this.measure(key, dir);
    return k && age < 3 * this.maxAgeMs ? k.bytes : pending; // stale while revalidating, within bounds
  }

  private measure(key: string, dir: string): Promise<number> {
    let p = this.measuring.get(key);
    if (!p) {
      const at = Date.now();
      const mine: Promise<number> = dirSize(dir).then((bytes) => {
        if (this.measuring.get(key) === mine) {
          this.known.set(key, { bytes, at });
          this.measuring.delete(key);
        }
        return bytes;
      });
      p = mine;
      this.measuring.set(key, p);
    }
    return p;
  }
}
